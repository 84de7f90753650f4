// onyx::nn::Module: parameters, buffers, submodules, modes, state dicts, files, initializers,
// lazy layers and their errors.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "runtime/common/error.h"
#include "training/nn/nn.h"

namespace onyx::nn {
namespace {

std::shared_ptr<Sequential> small_mlp() {
  auto model = std::make_shared<Sequential>();
  model->emplace<Linear>(4, 8).emplace<ReLU>().emplace<Dropout>(0.25).emplace<BatchNorm>(8).emplace<Linear>(8, 3);
  return model;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("onyx_nn_" + std::to_string(::getpid()) + "_" + name);
}

TEST(NnModule, NamesParametersBuffersAndSubmodulesByPath) {
  auto model = small_mlp();
  std::vector<std::string> names;
  for (auto& [name, parameter] : model->named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias"}));
  std::vector<std::string> buffers;
  for (auto& [name, buffer] : model->named_buffers()) buffers.push_back(name);
  EXPECT_EQ(buffers, (std::vector<std::string>{"3.running_mean", "3.running_var"}));
  EXPECT_EQ(model->parameters().size(), 6u);
  EXPECT_EQ(model->parameter_count(), 4 * 8 + 8 + 8 + 8 + 8 * 3 + 3);
  EXPECT_EQ(model->named_modules().size(), 6u);  // itself and five layers
  EXPECT_EQ(model->state_dict().size(), 8u);
}

TEST(NnModule, TrainAndEvalReachEverySubmodule) {
  auto model = small_mlp();
  EXPECT_TRUE((*model)[2].is_training());
  model->eval();
  for (auto& [name, module] : model->named_modules()) EXPECT_FALSE(module->is_training()) << name;
  model->train();
  EXPECT_TRUE((*model)[3].is_training());
}

TEST(NnModule, FrozenParametersLeaveParametersButStayInTheStateDict) {
  auto model = small_mlp();
  (*model)[0].set_trainable(false);
  EXPECT_EQ(model->parameters().size(), 4u);
  EXPECT_EQ(model->state_dict().count("0.weight"), 1u);
}

TEST(NnModule, DuplicateNamesAreRefused) {
  class Twice : public Module {
   public:
    Twice() : Module("Twice") {
      register_parameter("w", zeros(DataType::kFloat, {2}));
      register_buffer("w", zeros(DataType::kFloat, {2}));
    }
  };
  try {
    Twice twice;
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'w' is registered twice"), std::string::npos) << error.what();
  }
}

TEST(NnModule, LoadStateDictReplacesValuesAndChecksNamesAndShapes) {
  auto a = small_mlp();
  auto b = small_mlp();
  b->load_state_dict(a->state_dict());
  for (auto& [name, tensor] : a->state_dict()) {
    EXPECT_EQ(to_vector<float>(tensor), to_vector<float>(b->state_dict().at(name))) << name;
  }
  auto state = a->state_dict();
  state["0.weight"] = zeros(DataType::kFloat, {8, 5});
  EXPECT_THROW(
      {
        try {
          b->load_state_dict(state);
        } catch (const Error& error) {
          EXPECT_NE(std::string(error.what()).find("'0.weight' is float[8,5] in the state dict but float[8,4]"),
                    std::string::npos)
              << error.what();
          throw;
        }
      },
      Error);
  state = a->state_dict();
  state.erase("4.bias");
  EXPECT_THROW(b->load_state_dict(state), Error);
  b->load_state_dict(state, /*strict=*/false);
  state = a->state_dict();
  state["extra"] = zeros(DataType::kFloat, {1});
  EXPECT_THROW(b->load_state_dict(state), Error);
}

TEST(NnModule, SaveAndLoadRoundTripThroughAnAtomicChecksummedFile) {
  auto a = small_mlp();
  auto b = small_mlp();
  const auto path = temp_file("roundtrip.onnx");
  a->save(path);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  b->load(path);
  EXPECT_EQ(to_vector<float>(a->state_dict().at("4.weight")), to_vector<float>(b->state_dict().at("4.weight")));

  // A truncated file is damaged, not half-loaded.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  try {
    b->load(path);
    FAIL() << "loaded a truncated file";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("damaged"), std::string::npos) << error.what();
  }
  std::filesystem::remove(path);
  EXPECT_THROW(b->load(path), Error);  // missing

  // Another module's file names the mismatch.
  Linear other(4, 2);
  other.save(path);
  try {
    b->load(path);
    FAIL() << "loaded a Linear into a Sequential";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("holds a Linear, not a Sequential"), std::string::npos) << error.what();
  }
  Linear same_type(4, 3);
  try {
    same_type.load(path);
    FAIL() << "loaded mismatched shapes";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'weight' is float[2,4]"), std::string::npos) << error.what();
  }
  std::filesystem::remove(path);
}

TEST(NnModule, LazyLinearLearnsItsInputSizeAtTheFirstCall) {
  Sequential model;
  model.emplace<Linear>(5).emplace<ReLU>().emplace<Linear>(2);
  EXPECT_FALSE(model.is_built());
  EXPECT_TRUE(model.parameters().empty());
  try {
    Optimizer optimizer(model, training::sgd(0.1));
    FAIL() << "an optimizer over an unbuilt model";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("call the model once"), std::string::npos) << error.what();
  }
  Tensor y = model(ones(DataType::kFloat, {3, 7}));
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_TRUE(model.is_built());
  EXPECT_EQ(model.state_dict().at("0.weight").shape(), (Shape{5, 7}));
  EXPECT_EQ(model.state_dict().at("2.weight").shape(), (Shape{2, 5}));
}

TEST(NnInit, SeedsRepeatAndBoundsFollowTheFans) {
  const Shape shape{64, 32};
  const Fans fans = fans_of(shape);
  EXPECT_EQ(fans.in, 32);
  EXPECT_EQ(fans.out, 64);
  EXPECT_EQ(fans_of(Shape{16, 3, 5, 5}).in, 75);
  EXPECT_EQ(fans_of(Shape{16, 3, 5, 5}).out, 400);
  auto same_a = to_vector<float>(glorot_uniform(7)(shape, fans));
  auto same_b = to_vector<float>(glorot_uniform(7)(shape, fans));
  EXPECT_EQ(same_a, same_b);
  manual_seed(3);
  auto first = to_vector<float>(he_normal()(shape, fans));
  manual_seed(3);
  EXPECT_EQ(first, to_vector<float>(he_normal()(shape, fans)));
  EXPECT_NE(first, to_vector<float>(he_normal()(shape, fans)));

  const double glorot_bound = std::sqrt(6.0 / (32 + 64));
  double max_abs = 0, sum_sq = 0;
  for (float v : same_a) max_abs = std::max(max_abs, std::abs(static_cast<double>(v)));
  EXPECT_LE(max_abs, glorot_bound);
  EXPECT_GT(max_abs, 0.95 * glorot_bound);  // 2048 draws reach close to the bound
  for (float v : first) sum_sq += static_cast<double>(v) * v;
  EXPECT_NEAR(std::sqrt(sum_sq / first.size()), std::sqrt(2.0 / 32), 0.1 * std::sqrt(2.0 / 32));
  for (float v : to_vector<float>(zeros_init()(shape, fans))) ASSERT_EQ(v, 0.0f);
  auto uniform = to_vector<float>(uniform_init(2.0, 3.0, 1)(Shape{100}, Fans{}));
  for (float v : uniform) ASSERT_TRUE(v >= 2.0f && v < 3.0f);
  auto normal = to_vector<float>(normal_init(5.0, 0.0, 1)(Shape{4}, Fans{}));
  for (float v : normal) ASSERT_EQ(v, 5.0f);
}

}  // namespace
}  // namespace onyx::nn
