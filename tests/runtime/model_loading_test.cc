#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "onnx/onnx-ml.pb.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/model_saver.h"
#include "runtime/ir/tensor_proto.h"
#include "runtime/session/inference_session.h"

namespace onyx {
namespace {

namespace fs = std::filesystem;

class ModelLoading : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("onyx_loading_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_ / "weights");
  }
  void TearDown() override { fs::remove_all(folder_); }

  // y = x + w, with w as an initializer the caller fills in.
  static onnx::ModelProto add_model(onnx::TensorProto** weight) {
    onnx::ModelProto model;
    model.set_ir_version(8);
    model.add_opset_import()->set_version(17);
    auto* graph = model.mutable_graph();
    graph->set_name("g");
    auto* node = graph->add_node();
    node->set_op_type("Add");
    node->add_input("x");
    node->add_input("w");
    node->add_output("y");
    for (const char* name : {"x"}) {
      auto* input = graph->add_input();
      input->set_name(name);
      auto* type = input->mutable_type()->mutable_tensor_type();
      type->set_elem_type(onnx::TensorProto::FLOAT);
      type->mutable_shape()->add_dim()->set_dim_value(3);
    }
    graph->add_output()->set_name("y");
    *weight = graph->add_initializer();
    (*weight)->set_name("w");
    (*weight)->set_data_type(onnx::TensorProto::FLOAT);
    (*weight)->add_dims(3);
    return model;
  }

  void write(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  std::vector<float> run_add(const fs::path& path) {
    InferenceSession session(path);
    auto outputs = session.run({{"x", Tensor::from_vector<float>({3}, {1, 1, 1})}});
    auto values = outputs[0].value.tensor().values<float>();
    return {values.begin(), values.end()};
  }

  fs::path folder_;
};

TEST_F(ModelLoading, ReadsExternalDataInsideTheModelFolder) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  weight->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = weight->add_external_data();
  location->set_key("location");
  location->set_value("weights/w.bin");
  auto* offset = weight->add_external_data();
  offset->set_key("offset");
  offset->set_value("4");
  float values[4] = {99, 10, 20, 30};  // the first float is skipped by the offset
  write(folder_ / "weights/w.bin", std::string(reinterpret_cast<char*>(values), sizeof values));
  write(folder_ / "model.onnx", model.SerializeAsString());
  EXPECT_EQ(run_add(folder_ / "model.onnx"), (std::vector<float>{11, 21, 31}));
}

TEST_F(ModelLoading, RejectsExternalDataThatLeavesTheModelFolder) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  weight->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = weight->add_external_data();
  location->set_key("location");
  location->set_value("../outside.bin");
  float values[3] = {1, 2, 3};
  write(folder_.parent_path() / "outside.bin", std::string(reinterpret_cast<char*>(values), sizeof values));
  write(folder_ / "model.onnx", model.SerializeAsString());
  try {
    load_model(folder_ / "model.onnx");
    FAIL() << "loading should have failed";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidModel);
    EXPECT_NE(std::string(error.what()).find("leaves the model's folder"), std::string::npos) << error.what();
  }
  fs::remove(folder_.parent_path() / "outside.bin");
}

TEST_F(ModelLoading, RejectsAbsoluteExternalDataPaths) {
  EXPECT_THROW(resolve_external_data_path(folder_, "/etc/passwd"), Error);
  EXPECT_THROW(resolve_external_data_path(folder_, "weights/../../x"), Error);
  EXPECT_NO_THROW(resolve_external_data_path(folder_, "weights/../w.bin"));
}

TEST_F(ModelLoading, ReportsAMissingExternalFile) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  weight->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = weight->add_external_data();
  location->set_key("location");
  location->set_value("missing.bin");
  write(folder_ / "model.onnx", model.SerializeAsString());
  EXPECT_THROW(load_model(folder_ / "model.onnx"), Error);
}

TEST_F(ModelLoading, TruncatedAndForeignFilesGiveOneClearError) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  for (float v : {1.0f, 2.0f, 3.0f}) weight->add_float_data(v);
  std::string bytes = model.SerializeAsString();
  for (size_t cut : {size_t{1}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 3}) {
    write(folder_ / "cut.onnx", bytes.substr(0, cut));
    EXPECT_THROW(InferenceSession(folder_ / "cut.onnx"), Error) << "cut at " << cut;
  }
  write(folder_ / "text.onnx", "this is not a model at all\n");
  EXPECT_THROW(load_model(folder_ / "text.onnx"), Error);
  write(folder_ / "empty.onnx", "");
  EXPECT_THROW(load_model(folder_ / "empty.onnx"), Error);
  EXPECT_THROW(load_model(folder_ / "does_not_exist.onnx"), Error);
}

TEST_F(ModelLoading, TypedAndRawInitializersAgree) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  for (float v : {1.0f, 2.0f, 3.0f}) weight->add_float_data(v);
  write(folder_ / "typed.onnx", model.SerializeAsString());
  weight->clear_float_data();
  float raw[3] = {1, 2, 3};
  weight->set_raw_data(std::string(reinterpret_cast<char*>(raw), sizeof raw));
  write(folder_ / "raw.onnx", model.SerializeAsString());
  EXPECT_EQ(run_add(folder_ / "typed.onnx"), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(run_add(folder_ / "raw.onnx"), (std::vector<float>{2, 3, 4}));
}

TEST_F(ModelLoading, RawDataOfTheWrongSizeIsAnError) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  weight->set_raw_data(std::string(8, '\0'));  // 2 floats for shape [3]
  write(folder_ / "model.onnx", model.SerializeAsString());
  EXPECT_THROW(load_model(folder_ / "model.onnx"), Error);
}

// Fuzz regression (model_mutate/tensor-attribute-huge-dims-no-data): a tensor claiming 2^40
// elements with no data was allocated (std::bad_alloc) before its data size was checked.
TEST(TensorFromProto, HugeDimsWithoutTheDataAreRefusedBeforeAllocating) {
  onnx::TensorProto proto;
  proto.set_name("w");
  proto.set_data_type(onnx::TensorProto::FLOAT);
  proto.add_dims(int64_t{1} << 40);
  proto.add_float_data(1.0f);
  try {
    tensor_from_proto(proto, {});
    FAIL() << "expected an onyx::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'w': shape [1099511627776] has 1099511627776 elements, more than"),
              std::string::npos) << e.what();
  }
  proto.set_raw_data(std::string(16, '\0'));
  EXPECT_THROW(tensor_from_proto(proto, {}), Error);
}

TEST_F(ModelLoading, SparseInitializersAreDensified) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  model.mutable_graph()->clear_initializer();
  auto* sparse = model.mutable_graph()->add_sparse_initializer();
  sparse->add_dims(3);
  auto* values = sparse->mutable_values();
  values->set_name("w");
  values->set_data_type(onnx::TensorProto::FLOAT);
  values->add_dims(1);
  values->add_float_data(5);
  auto* indices = sparse->mutable_indices();
  indices->set_data_type(onnx::TensorProto::INT64);
  indices->add_dims(1);
  indices->add_int64_data(2);
  write(folder_ / "model.onnx", model.SerializeAsString());
  EXPECT_EQ(run_add(folder_ / "model.onnx"), (std::vector<float>{1, 1, 6}));
}

TEST_F(ModelLoading, ModelLocalFunctionsAreInlined) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  auto* custom = model.add_opset_import();
  custom->set_domain("local");
  custom->set_version(1);
  // local.ScaledRelu(x) = Relu(x) * alpha, alpha an attribute of the call.
  auto* function = model.add_functions();
  function->set_name("ScaledRelu");
  function->set_domain("local");
  function->add_input("a");
  function->add_output("b");
  function->add_attribute("alpha");
  *function->add_opset_import() = model.opset_import(0);
  auto* relu = function->add_node();
  relu->set_op_type("Relu");
  relu->add_input("a");
  relu->add_output("r");
  auto* constant = function->add_node();
  constant->set_op_type("Constant");
  constant->add_output("k");
  auto* value = constant->add_attribute();
  value->set_name("value_float");
  value->set_type(onnx::AttributeProto::FLOAT);
  value->set_ref_attr_name("alpha");
  auto* mul = function->add_node();
  mul->set_op_type("Mul");
  mul->add_input("r");
  mul->add_input("k");
  mul->add_output("b");

  auto* graph = model.mutable_graph();
  graph->set_name("g");
  for (const char* output : {"y1", "y2"}) {  // two calls: internal names must not collide
    auto* call = graph->add_node();
    call->set_op_type("ScaledRelu");
    call->set_domain("local");
    call->add_input(std::string(output) == "y1" ? "x" : "y1");
    call->add_output(output);
    auto* alpha = call->add_attribute();
    alpha->set_name("alpha");
    alpha->set_type(onnx::AttributeProto::FLOAT);
    alpha->set_f(std::string(output) == "y1" ? 2.0f : 3.0f);
  }
  auto* input = graph->add_input();
  input->set_name("x");
  input->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  graph->add_output()->set_name("y2");
  Model loaded = load_model_from_bytes(model.SerializeAsString().data(), model.ByteSizeLong());
  EXPECT_EQ(loaded.graph.nodes.size(), 6u);
  InferenceSession session(std::move(loaded));
  auto outputs = session.run({{"x", Tensor::from_vector<float>({3}, {-1, 1, 2})}});
  auto y = outputs[0].value.tensor().values<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{0, 6, 12}));
}

TEST_F(ModelLoading, SavedModelsLoadBackTheSame) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  for (float v : {1.0f, 2.0f, 3.0f}) weight->add_float_data(v);
  Model loaded = load_model_from_bytes(model.SerializeAsString().data(), model.ByteSizeLong());
  save_model(loaded, folder_ / "saved.onnx");
  for (const auto& entry : fs::directory_iterator(folder_)) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();  // no temporary left
  }
  Model reloaded = load_model(folder_ / "saved.onnx");
  EXPECT_EQ(reloaded.graph.nodes.size(), 1u);
  EXPECT_EQ(reloaded.graph.nodes[0].op_type, "Add");
  EXPECT_EQ(reloaded.opsets.at(""), 17);
  EXPECT_EQ(reloaded.graph.inputs[0].type.to_string(), "float[3]");
  EXPECT_EQ(run_add(folder_ / "saved.onnx"), (std::vector<float>{2, 3, 4}));
}

TEST_F(ModelLoading, OpsetsNewerThanOnyxKnowsAreRejected) {
  onnx::TensorProto* weight;
  onnx::ModelProto model = add_model(&weight);
  model.mutable_opset_import(0)->set_version(99);
  try {
    load_model_from_bytes(model.SerializeAsString().data(), model.ByteSizeLong());
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("opset 99"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace onyx
