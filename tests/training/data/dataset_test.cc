// training/data: the readers (IDX gzipped and plain, CSV), shuffling, splits, batches and the
// checks against a model's declared inputs, each with its error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "runtime/ir/value_files.h"
#include "tests/training/training_test_util.h"
#include "training/data/dataset.h"
#include "training/data/dataset_formats.h"

namespace onyx::training::data {
namespace {

using onyx::testing::error_message;
using ::testing::HasSubstr;

std::filesystem::path temporary_dir() {
  return onyx::testing::scratch_folder("onyx_dataset_test_");
}

void write_file(const std::filesystem::path& path, const std::string& bytes, bool gzipped = false) {
  if (gzipped) {
    gzFile file = gzopen(path.c_str(), "wb");
    gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(file);
    return;
  }
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string idx_bytes(unsigned char type, std::vector<uint32_t> dims, const std::string& data) {
  std::string bytes{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t dim : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((dim >> shift) & 0xFF));
  }
  return bytes + data;
}

Dataset numbered(int64_t samples) {
  std::vector<float> x(static_cast<size_t>(samples * 2));
  std::vector<int64_t> y(static_cast<size_t>(samples));
  for (int64_t i = 0; i < samples; ++i) x[i * 2] = static_cast<float>(i), x[i * 2 + 1] = -static_cast<float>(i), y[i] = i;
  Dataset dataset;
  dataset.source = "numbered";
  dataset.arrays["x"] = Tensor::from_vector<float>({samples, 2}, x);
  dataset.arrays["y"] = Tensor::from_vector<int64_t>({samples}, y);
  return dataset;
}

TEST(IdxFiles, GzippedAndPlainReadTheSameBigEndianValues) {
  const auto dir = temporary_dir();
  // int32 [2, 2], big-endian: 1, 256, -1, 70000.
  const std::string data = std::string("\x00\x00\x00\x01\x00\x00\x01\x00\xff\xff\xff\xff\x00\x01\x11\x70", 16);
  write_file(dir / "plain.idx", idx_bytes(0x0C, {2, 2}, data));
  write_file(dir / "packed.idx.gz", idx_bytes(0x0C, {2, 2}, data), true);
  for (const char* name : {"plain.idx", "packed.idx.gz"}) {
    Tensor tensor = read_idx_file(dir / name);
    EXPECT_EQ(tensor.shape(), (Shape{2, 2}));
    EXPECT_EQ(tensor.to_int64_vector(), (std::vector<int64_t>{1, 256, -1, 70000})) << name;
  }
  write_file(dir / "short.idx", idx_bytes(0x08, {3, 2}, "abc"));
  EXPECT_THAT(error_message([&] { read_idx_file(dir / "short.idx"); }), HasSubstr("IDX data has 3 bytes"));
  write_file(dir / "broken.idx.gz", std::string("\x1f\x8b\x08\x00garbage", 12));
  EXPECT_THAT(error_message([&] { read_idx_file(dir / "broken.idx.gz"); }), HasSubstr("broken.idx.gz: compressed data is truncated"));
}

// Fuzz regressions (data_readers/idx-huge-dims, idx-claims-gigabytes): the reader allocated the
// tensor the header claimed before comparing it with the bytes present (OOM, or a wrapped size).
TEST(IdxFiles, AHeaderClaimingMoreThanTheFileHoldsIsRefusedBeforeAllocating) {
  const auto dir = temporary_dir();
  write_file(dir / "gigabytes.idx", idx_bytes(0x0D, {60000, 1000, 1000}, "abcd"));
  EXPECT_THAT(error_message([&] { read_idx_file(dir / "gigabytes.idx"); }),
              HasSubstr("IDX data has 4 bytes, shape [60000,1000,1000] needs 240000000000"));
  write_file(dir / "wrapping.idx", idx_bytes(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, ""));
  EXPECT_THAT(error_message([&] { read_idx_file(dir / "wrapping.idx"); }), HasSubstr("wrapping.idx"));
}

TEST(IdxFiles, AFolderPicksTheTrainSetAndPrefixesNameOthers) {
  const auto dir = temporary_dir() / "idx";
  std::filesystem::create_directories(dir);
  write_file(dir / "train-images-idx3-ubyte.gz", idx_bytes(0x08, {2, 1, 2}, std::string("\x00\xff\x33\x66", 4)), true);
  write_file(dir / "train-labels-idx1-ubyte.gz", idx_bytes(0x08, {2}, std::string("\x07\x02", 2)), true);
  write_file(dir / "t10k-images-idx3-ubyte", idx_bytes(0x08, {1, 1, 2}, std::string("\x00\x00", 2)));
  write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes(0x08, {1}, std::string("\x01", 1)));
  Dataset train = load_dataset(dir.string(), {.features = "image", .label = "label"});
  ASSERT_EQ(train.size(), 2);
  EXPECT_EQ(train.arrays.at("image").dtype(), DataType::kFloat);
  EXPECT_FLOAT_EQ(train.arrays.at("image").data<float>()[1], 1.0f);
  EXPECT_FLOAT_EQ(train.arrays.at("image").data<float>()[2], 0x33 / 255.0f);
  EXPECT_EQ(train.arrays.at("label").to_int64_vector(), (std::vector<int64_t>{7, 2}));
  Dataset test = load_dataset((dir / "t10k").string(), {.features = "image", .label = "label"});
  EXPECT_EQ(test.size(), 1);
  EXPECT_THAT(error_message([&] { load_dataset((dir / "valid").string(), {}); }),
              HasSubstr("holds no IDX set 'valid' (it has: t10k, train)"));
}

TEST(CsvFiles, LabelColumnAnywhereAndErrorsNameTheLine) {
  const auto dir = temporary_dir();
  write_file(dir / "d.csv", "a, label ,b\n1.5,2,3\n\n-4,0,5e-1\r\n");
  Dataset dataset = load_dataset((dir / "d.csv").string(), {.features = "x", .label = "label"});
  EXPECT_EQ(dataset.arrays.at("x").shape(), (Shape{2, 2}));
  EXPECT_EQ(std::vector<float>(dataset.arrays.at("x").values<float>().begin(), dataset.arrays.at("x").values<float>().end()),
            (std::vector<float>{1.5f, 3, -4, 0.5f}));
  EXPECT_EQ(dataset.arrays.at("label").element_as_double(0), 2.0);
  EXPECT_THAT(error_message([&] { load_dataset((dir / "d.csv").string(), {.label = "y"}); }),
              HasSubstr("no label column 'y' (its header names: a, label, b)"));
  write_file(dir / "bad.csv", "a,y\n1,2\n3,x\n");
  EXPECT_THAT(error_message([&] { load_dataset((dir / "bad.csv").string(), {.label = "y"}); }),
              HasSubstr("line 3, column 'y': 'x' is not a number"));
  write_file(dir / "ragged.csv", "a,y\n1,2,3\n");
  EXPECT_THAT(error_message([&] { load_dataset((dir / "ragged.csv").string(), {.label = "y"}); }),
              HasSubstr("line 2 has 3 fields, the header has 2"));
}

TEST(EpochOrder, APermutationFixedBySeedAndEpoch) {
  std::vector<int64_t> first = epoch_order(1000, 5, 0);
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(first, epoch_order(1000, 5, 0));
  EXPECT_NE(first, epoch_order(1000, 5, 1));
  EXPECT_NE(first, epoch_order(1000, 6, 0));
}

TEST(SplitDataset, HoldsOutTheFractionDisjointly) {
  auto [train, validation] = split_dataset(numbered(100), 0.2, 1);
  EXPECT_EQ(train.size(), 80);
  EXPECT_EQ(validation.size(), 20);
  std::set<int64_t> seen;
  for (const Dataset* part : {&train, &validation}) {
    for (int64_t label : part->arrays.at("y").to_int64_vector()) EXPECT_TRUE(seen.insert(label).second);
  }
  EXPECT_EQ(seen.size(), 100u);
  // Rows stay together: x[i] = (i, -i) for label i.
  EXPECT_EQ(validation.arrays.at("x").data<float>()[1], -static_cast<float>(validation.arrays.at("y").data<int64_t>()[0]));
  EXPECT_THAT(error_message([&] { split_dataset(numbered(3), 0.01, 1); }), HasSubstr("empty training or validation"));
}

TEST(MakeBatch, TheLastBatchIsPartial) {
  Dataset dataset = numbered(10);
  std::vector<int64_t> order = epoch_order(10, 0, 0);
  auto batch = make_batch(dataset, order, 8, 10);
  EXPECT_EQ(batch.at("x").tensor().shape(), (Shape{2, 2}));
  EXPECT_EQ(batch.at("y").tensor().to_int64_vector(), (std::vector<int64_t>{order[8], order[9]}));
}

TEST(ConformDataset, ConvertsReshapesAndExplainsMismatches) {
  Dataset dataset;
  dataset.source = "d.npz";
  dataset.arrays["x"] = Tensor::from_vector<double>({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  dataset.arrays["y"] = Tensor::from_vector<float>({2}, {1, 0});
  dataset.arrays["unused"] = Tensor::from_vector<float>({2}, {0, 0});
  Dataset conformed = dataset;
  conform_dataset(conformed, {{"x", DataType::kFloat, std::vector<Dim>{Dim::known(1), Dim::known(2), Dim::known(2)}, "model input"},
                              {"y", DataType::kInt64, std::vector<Dim>{}, "label"}});
  EXPECT_EQ(conformed.arrays.size(), 2u);
  EXPECT_EQ(conformed.arrays.at("x").shape(), (Shape{2, 1, 2, 2}));
  EXPECT_EQ(conformed.arrays.at("x").dtype(), DataType::kFloat);
  EXPECT_EQ(conformed.arrays.at("y").to_int64_vector(), (std::vector<int64_t>{1, 0}));

  Dataset wrong = dataset;
  EXPECT_THAT(error_message([&] {
                conform_dataset(wrong, {{"x", DataType::kFloat, std::vector<Dim>{Dim::known(5)}, "model input"}});
              }),
              HasSubstr("'x' (the model input) has shape [2 samples,4], the model declares [batch,5]"));
  wrong = dataset;
  EXPECT_THAT(error_message([&] { conform_dataset(wrong, {{"z", DataType::kFloat, std::nullopt, "model input"}}); }),
              HasSubstr("d.npz has no array 'z' (the model input); it holds 'unused', 'x', 'y'"));
  wrong = dataset;
  wrong.arrays["y"] = Tensor::from_vector<float>({2}, {1, 0.5f});
  EXPECT_THAT(error_message([&] { conform_dataset(wrong, {{"y", DataType::kInt64, std::nullopt, "label"}}); }),
              HasSubstr("holds 0.5 at element 1"));
}

TEST(LoadDataset, SampleCountsMustAgree) {
  const auto dir = temporary_dir();
  write_npy(dir / "x.npy", Tensor::from_vector<float>({3}, {1, 2, 3}));
  write_npy(dir / "y.npy", Tensor::from_vector<int64_t>({2}, {0, 1}));
  EXPECT_THAT(error_message([&] { load_dataset((dir / "x.npy").string() + "," + (dir / "y.npy").string(), {}); }),
              HasSubstr("array 'label' has 2 samples, 'input' has 3"));
}

}  // namespace
}  // namespace onyx::training::data
