// Checks `onyx train` makes around its training steps, each ending in one error that says what to
// do: the data fits the model before the first step, and a checkpoint is only ever written with
// finite parameters (so the newest checkpoint is always one worth resuming from).
#pragma once

#include <filesystem>
#include <string>

#include "training/data/dataset.h"
#include "training/training_session.h"

namespace onyx::cli {

// The declared types check what they state; a symbolic dim ([batch, features]) lets data through
// that the graph cannot take. One evaluation of two samples finds that before the first step
// (eval mode: it draws nothing from the random generator, so results do not change). Throws
// naming the model's error and the data's shapes.
void check_data_fits(const training::TrainingSession& session, const training::data::Dataset& data);

// "no checkpoint was saved" or "the last good checkpoint is DIR/checkpoint-N.onnx", for errors
// that stop training.
std::string last_good_text(const std::filesystem::path& last_good);

// Throws when a parameter or buffer holds NaN or infinity: called before each checkpoint, since a
// NaN that has not reached the loss yet would otherwise be saved and resumed into.
void check_parameters_finite(const training::TrainingSession& session, const std::filesystem::path& last_good);

}  // namespace onyx::cli
