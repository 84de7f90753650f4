#include "tools/profile_json_option.h"

#include <filesystem>

namespace onyx::cli {

void add_profile_json_option(CLI::App& command, std::string& file) {
  auto folder_exists = CLI::Validator(
      [](std::string& text) -> std::string {
        const std::filesystem::path path(text);
        if (text.empty() || std::filesystem::is_directory(path)) return "'" + text + "' is a folder, not a file name";
        const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
        std::error_code error;
        if (!std::filesystem::is_directory(folder, error)) return "the folder '" + folder.string() + "' does not exist";
        return "";
      },
      "FILE");
  command
      .add_option("--profile-json", file,
                  "FILE: write a Chrome trace (open it in Perfetto or chrome://tracing) of session creation and "
                  "every run: each node with its op, provider, implementation, thread and input shapes")
      ->check(folder_exists);
}

}  // namespace onyx::cli
