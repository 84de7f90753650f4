// Entry point of the `onyx` CLI: parses the verb, runs it, and reports failures as one line.
#include <iostream>
#include <string>

#include "runtime/common/error.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"onyx: run, inspect, test, benchmark and train ONNX models, and build their gradient graphs"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, onyx::cli::Command>> commands;
  auto add = [&](onyx::cli::Command (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    onyx::cli::Command command = adder(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(command));
  };
  add(onyx::cli::add_run_command);
  add(onyx::cli::add_inspect_command);
  add(onyx::cli::add_test_command);
  add(onyx::cli::add_bench_command);
  add(onyx::cli::add_gradient_command);
  add(onyx::cli::add_train_command);
  // CLI11 reports an unknown verb as "A subcommand is required"; name the word instead.
  std::string known;
  bool is_known = false;
  for (const auto& [subcommand, command] : commands) {
    known += (known.empty() ? "" : ", ") + subcommand->get_name();
    is_known = is_known || (argc > 1 && subcommand->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !is_known) {
    std::cerr << "onyx: error: unknown command '" << argv[1] << "' (commands: " << known << ")\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    // Usage mistakes get one line too, like every other error.
    std::cerr << "onyx: error: " << error.what() << " (see onyx --help)\n";
    return 2;
  }
  try {
    for (auto& [subcommand, command] : commands) {
      if (subcommand->parsed()) return command();
    }
  } catch (const onyx::Error& error) {
    std::cerr << "onyx: error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "onyx: error: " << onyx::user_message(error) << "\n";
    return 1;
  }
  return 1;
}
