// CSV data: a header row naming the columns, then one sample per row. The label column is the
// label; every other column is a float feature.
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"
#include "training/data/dataset_formats.h"

namespace onyx::training::data {

namespace {

std::string trimmed(std::string_view field) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t' || field.back() == '\r')) field.remove_suffix(1);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
  return std::string(field);
}

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.push_back(trimmed(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

}  // namespace

Dataset read_csv_dataset(const std::filesystem::path& path, const LoadOptions& options) {
  const std::string text = read_file_bytes(path);
  const std::string source = path.string();
  std::vector<std::string> header;
  std::vector<float> features;
  std::vector<double> labels;
  size_t label_column = 0;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (trimmed(line).empty()) continue;
    std::vector<std::string> fields = split_fields(line);
    if (header.empty()) {
      header = std::move(fields);
      size_t found = header.size();
      for (size_t c = 0; c < header.size(); ++c) {
        if (header[c] == options.label) found = c;
      }
      if (found == header.size()) {
        std::string columns;
        for (const std::string& column : header) columns += (columns.empty() ? "" : ", ") + column;
        throw_error(ErrorCode::kInvalidArgument, source, " has no label column '", options.label,
                    "' (its header names: ", columns, ")");
      }
      ONYX_CHECK(header.size() >= 2, ErrorCode::kInvalidArgument, source, " has only the label column, no features");
      label_column = found;
      continue;
    }
    ONYX_CHECK(fields.size() == header.size(), ErrorCode::kInvalidArgument, source, " line ", line_number, " has ",
               fields.size(), " fields, the header has ", header.size());
    for (size_t c = 0; c < fields.size(); ++c) {
      char* parsed_end = nullptr;
      errno = 0;
      const double value = std::strtod(fields[c].c_str(), &parsed_end);
      ONYX_CHECK(!fields[c].empty() && *parsed_end == '\0' && errno != ERANGE, ErrorCode::kInvalidArgument, source,
                 " line ", line_number, ", column '", header[c], "': '", fields[c], "' is not a number");
      if (c == label_column) {
        labels.push_back(value);
      } else {
        features.push_back(static_cast<float>(value));
      }
    }
  }
  ONYX_CHECK(!header.empty(), ErrorCode::kInvalidArgument, source, " is empty (a CSV file needs a header row)");
  const int64_t samples = static_cast<int64_t>(labels.size());
  Dataset dataset;
  dataset.arrays[options.features] =
      Tensor::from_vector<float>({samples, static_cast<int64_t>(header.size() - 1)}, features);
  dataset.arrays[options.label] = Tensor::from_vector<double>({samples}, labels);
  return dataset;
}

}  // namespace onyx::training::data
