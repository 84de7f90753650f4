// Unit tests of RNN, GRU and LSTM: one small case per cell exercising bias, reverse direction,
// linear_before_reset, peepholes, input_forget, layout 1 and double, plus error paths.
// Expected values come from a NumPy (float64) transcription of the ONNX formulas.
#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

const std::vector<double> kX = {1.0, 2.0, 0.5, -1.0, -0.3, 0.8};  // seq 3, batch 1, input 2

template <typename T>
Tensor make(Shape shape, const std::vector<double>& v) {
  std::vector<T> t(v.begin(), v.end());
  return Tensor::from_vector<T>(std::move(shape), t);
}

void expect_close(const Tensor& t, const Shape& shape, const std::vector<double>& v, double tol) {
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(t.element_as_double(i), v[i], tol) << "at " << i;
}

std::vector<Value> run(const std::string& op, const std::vector<Value>& inputs,
                       std::vector<Attribute> attrs, size_t outputs) {
  Node node = make_node(op, inputs.size(), outputs, std::move(attrs));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].is_none()) node.inputs[i] = "";
  }
  return call_node_on_cpu(node, 14, inputs);
}

TEST(Rnn, ForwardTanhWithBiasInDouble) {
  auto out = run("RNN",
                 {make<double>({3, 1, 2}, kX), make<double>({1, 2, 2}, {-0.3, -0.2, -0.1, 0.0}),
                  make<double>({1, 2, 2}, {-0.2, 0.0, -0.6, -0.4}),
                  make<double>({1, 4}, {0.1, -0.2, 0.05, 0.0})},
                 {make_attribute("hidden_size", int64_t{2})}, 2);
  ASSERT_EQ(out[0].tensor().dtype(), DataType::kDouble);
  const std::vector<double> y = {-0.5005202111902353, -0.29131261245159096, 0.29140782246317265,
                                 0.16530626337791882, 0.021715021358725894, -0.38929360937616436};
  expect_close(out[0].tensor(), {3, 1, 1, 2}, y, 1e-12);
  expect_close(out[1].tensor(), {1, 1, 2}, {y[4], y[5]}, 1e-12);
}

TEST(Gru, ReverseLinearBeforeResetWithInitialH) {
  const std::vector<double> w = {-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, -0.3, -0.2, -0.1, 0.0, 0.1};
  const std::vector<double> r = {-0.45, -0.3, -0.15, 0.0, 0.15, 0.3, 0.45, -0.45, -0.3, -0.15, 0.0, 0.15};
  const std::vector<double> b = {-0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, -0.15, -0.1, -0.05, 0.0, 0.05};
  auto out = run("GRU",
                 {make<float>({3, 1, 2}, kX), make<float>({1, 6, 2}, w), make<float>({1, 6, 2}, r),
                  make<float>({1, 12}, b), Value(), make<float>({1, 1, 2}, {0.2, -0.1})},
                 {make_attribute("hidden_size", int64_t{2}), make_attribute("direction", "reverse"),
                  make_attribute("linear_before_reset", int64_t{1})},
                 2);
  expect_close(out[0].tensor(), {3, 1, 1, 2},
               {-0.2164894202000439, 0.20404780514989052, 0.06513161871196903, 0.0480638099117202,
                0.09762226242887244, 0.06467199706859023},
               1e-6);
  expect_close(out[1].tensor(), {1, 1, 2}, {-0.2164894202000439, 0.20404780514989052}, 1e-6);
}

// Fuzz regression (model_mutate/gru-empty-batch): an empty batch reached Eigen blocks of empty
// maps (UB). Empty batches and empty sequences give empty Y and the initial state.
TEST(Rnn, EmptyBatchAndEmptySequenceGiveEmptyOutputs) {
  for (const char* op : {"RNN", "GRU", "LSTM"}) {
    SCOPED_TRACE(op);
    const int64_t gates = std::string(op) == "RNN" ? 1 : std::string(op) == "GRU" ? 3 : 4;
    const std::vector<double> w(static_cast<size_t>(gates * 5 * 2), 0.1), r(static_cast<size_t>(gates * 5 * 5), 0.1);
    auto empty_batch = run(op, {make<float>({3, 0, 2}, {}), make<float>({1, gates * 5, 2}, w),
                                make<float>({1, gates * 5, 5}, r)},
                           {make_attribute("hidden_size", int64_t{5}), make_attribute("direction", "reverse")}, 2);
    expect_close(empty_batch[0].tensor(), {3, 1, 0, 5}, {}, 0);
    expect_close(empty_batch[1].tensor(), {1, 0, 5}, {}, 0);
    auto empty_sequence = run(op, {make<float>({0, 1, 2}, {}), make<float>({1, gates * 5, 2}, w),
                                   make<float>({1, gates * 5, 5}, r)},
                              {make_attribute("hidden_size", int64_t{5})}, 2);
    expect_close(empty_sequence[0].tensor(), {0, 1, 1, 5}, {}, 0);
    expect_close(empty_sequence[1].tensor(), {1, 1, 5}, std::vector<double>(5, 0.0), 0);
  }
  // LSTM: no step leaves both states as given (onnxruntime returns uninitialized Y_c here).
  const std::vector<double> h0 = {0.1, 0.2, 0.3, 0.4, 0.5}, c0 = {-1, -2, -3, -4, -5};
  auto lstm = run("LSTM", {make<float>({0, 1, 2}, {}), make<float>({1, 20, 2}, std::vector<double>(40, 0.1)),
                           make<float>({1, 20, 5}, std::vector<double>(100, 0.1)), Value(), Value(),
                           make<float>({1, 1, 5}, h0), make<float>({1, 1, 5}, c0)},
                  {make_attribute("hidden_size", int64_t{5})}, 3);
  expect_close(lstm[1].tensor(), {1, 1, 5}, h0, 1e-7);
  expect_close(lstm[2].tensor(), {1, 1, 5}, c0, 0);
}

TEST(Lstm, PeepholesInputForgetBatchMajor) {
  const std::vector<double> w = {-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, -0.3,
                                 -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, -0.3, -0.2};
  const std::vector<double> r = w;
  auto out = run("LSTM",
                 {make<float>({1, 3, 2}, kX), make<float>({1, 8, 2}, w), make<float>({1, 8, 2}, r),
                  Value(), Value(), Value(), Value(),
                  make<float>({1, 6}, {0.1, 0.2, -0.1, 0.3, 0.05, -0.2})},
                 {make_attribute("hidden_size", int64_t{2}), make_attribute("input_forget", int64_t{1}),
                  make_attribute("layout", int64_t{1})},
                 3);
  expect_close(out[0].tensor(), {1, 3, 1, 2},
               {0.13384695906621955, -0.11308020025942993, 0.0010419734964612262,
                -0.08417586112634257, 0.03991842791707848, -0.03960285138265034},
               1e-6);
  expect_close(out[1].tensor(), {1, 1, 2}, {0.03991842791707848, -0.03960285138265034}, 1e-6);
  expect_close(out[2].tensor(), {1, 1, 2}, {0.07597972970965003, -0.095139377948529}, 1e-6);
}

TEST(Rnn, BidirectionalBatchMajorWithSequenceLens) {
  // Batch 2 (lengths 3 and 2), forward Relu and reverse Tanh, initial_h [batch, dirs, H].
  auto out = run("RNN",
                 {make<float>({2, 3, 2}, {1.0, 2.0, 0.5, -1.0, -0.3, 0.8, 0.2, 0.1, -1.0, 0.4, 9.0, 9.0}),
                  make<float>({2, 2, 2}, {-0.3, -0.2, -0.1, 0.4, 0.5, 0.1, 0.2, -0.3}),
                  make<float>({2, 2, 2}, {-0.2, 0.1, -0.6, -0.4, 0.3, 0.2, 0.1, -0.5}), Value(),
                  Tensor::from_vector<int32_t>({2}, {3, 2}),
                  make<float>({2, 2, 2}, {0.1, -0.1, 0.2, 0.0, -0.3, 0.3, 0.0, 0.4})},
                 {make_attribute("hidden_size", int64_t{2}), make_attribute("direction", "bidirectional"),
                  make_attribute("activations", std::vector<std::string>{"Relu", "Tanh"}),
                  make_attribute("layout", int64_t{1})},
                 2);
  expect_close(out[0].tensor(), {2, 3, 2, 2},
               {0.0, 0.68, 0.6780818441015065, -0.561864259468132, 0.118, 0.0, 0.09215685378469819,
                0.489538023377035, 0.0, 0.2792, -0.009999666679999441, -0.2729050805631327, 0.01, 0.08,
                -0.09407325071079158, 0.20943395349367236, 0.226, 0.222, -0.36270746757805106,
                -0.477700012168498, 0.0, 0.0, 0.0, 0.0},
               1e-6);
  expect_close(out[1].tensor(), {2, 2, 2},
               {0.0, 0.2792, 0.6780818441015065, -0.561864259468132, 0.226, 0.222,
                -0.09407325071079158, 0.20943395349367236},
               1e-6);
}

TEST(Rnn, ClipInFloat16) {
  auto out = run("RNN",
                 {make<Float16>({3, 1, 2}, kX), make<Float16>({1, 2, 2}, {-0.3, -0.2, -0.1, 0.0}),
                  make<Float16>({1, 2, 2}, {-0.2, 0.0, -0.6, -0.4}),
                  make<Float16>({1, 4}, {0.1, -0.2, 0.05, 0.0})},
                 {make_attribute("hidden_size", int64_t{2}), make_attribute("clip", 0.5f)}, 1);
  ASSERT_EQ(out[0].tensor().dtype(), DataType::kFloat16);
  expect_close(out[0].tensor(), {3, 1, 1, 2},
               {-0.46211715726000974, -0.29131261245159096, 0.2843638104447211, 0.14281237826527335,
                0.023123115444479113, -0.3780163349325279},
               3e-3);
}

TEST(Rnn, ShapeRule) {
  Node node = make_node("LSTM", 3, 3,
                        {make_attribute("hidden_size", int64_t{5}),
                         make_attribute("direction", "bidirectional"), make_attribute("layout", int64_t{1})});
  const TypeInfo x = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::named("b"), Dim::known(7), Dim::known(3)});
  const TypeInfo w = TypeInfo::tensor(DataType::kFloat);
  std::vector<const TypeInfo*> types = {&x, &w, &w};
  InferenceContext ctx(node, 14, types, {nullptr, nullptr, nullptr});
  (*ShapeRuleRegistry::global().find("", "LSTM"))(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), "float[b,7,2,5]");
  EXPECT_EQ(ctx.output_types()[1].to_string(), "float[b,2,5]");
  EXPECT_EQ(ctx.output_types()[2].to_string(), "float[b,2,5]");
}

TEST(Rnn, Errors) {
  const Tensor x = make<float>({3, 1, 2}, kX);
  const Tensor w = make<float>({1, 2, 2}, {0, 0, 0, 0});
  expect_error([&] { run("RNN", {x, w, w}, {make_attribute("direction", "sideways")}, 1); },
               {"direction", "sideways"});
  expect_error([&] { run("RNN", {x, make<float>({1, 2, 3}, std::vector<double>(6)), w}, {}, 1); },
               {"W shape", "[1,2,3]"});
  expect_error([&] { run("RNN", {x, w, w, Value(), Tensor::from_vector<int32_t>({1}, {4})}, {}, 1); },
               {"sequence_lens"});
  expect_error([&] { run("GRU", {x, w, w}, {make_attribute("activations", std::vector<std::string>{"Tanh"})}, 1); },
               {"activations"});
}

}  // namespace
}  // namespace onyx::tensor_test
