// Unit tests of DFT, STFT, the window ops and MelWeightMatrix. Expected values were computed
// with NumPy (np.fft in float64, the window formulas of the ONNX spec).
#include <cmath>

#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

Tensor f64(Shape shape, std::vector<double> values) {
  return Tensor::from_vector<double>(std::move(shape), values);
}

void expect_close(const Tensor& t, const Shape& shape, const std::vector<double>& values,
                  double tolerance = 1e-12) {
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  ASSERT_EQ(t.element_count(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(t.element_as_double(static_cast<int64_t>(i)), values[i], tolerance) << "at " << i;
  }
}

TEST(DFT, RealInputNonPowerOfTwoLength) {
  // Length 6 goes through Bluestein's algorithm.
  Tensor x = f64({1, 6, 1}, {1.0, 2.0, -1.0, 0.5, 3.0, -2.0});
  Tensor y = run1("DFT", 17, {x}, {make_attribute("axis", int64_t{1})});
  expect_close(y, {1, 6, 2}, {3.5, 0, -0.5, 0, 0.5, -6.928203230275509, 2.5, 0,
                              0.5, 6.928203230275509, -0.5, 0});
}

TEST(DFT, ComplexForwardAndInverseOpset20) {
  Tensor x = f64({4, 2}, {1, 2, -1, 0.5, 3, -1, 0.25, 0});
  // Opset 20 default axis is -2, the only signal axis here.
  Tensor y = run1("DFT", 20, {x});
  expect_close(y, {4, 2}, {3.25, 1.5, -1.5, 4.25, 4.75, 0.5, -2.5, 1.75});
  Tensor inv = run1("DFT", 20, {x, Value(), Tensor::scalar<int64_t>(0)},
                    {make_attribute("inverse", int64_t{1})});
  expect_close(inv, {4, 2}, {0.8125, 0.375, -0.625, 0.4375, 1.1875, 0.125, -0.375, 1.0625});
}

TEST(DFT, OnesidedPaddedAndIrfft) {
  Tensor x = f64({5, 1}, {1, 2, 3, 4, 5});
  Tensor r = run1("DFT", 20, {x}, {make_attribute("onesided", int64_t{1})});
  expect_close(r, {3, 2}, {15, 0, -2.5, 3.4409548011779334, -2.5, 0.8122992405822659});
  // dft_length 5 > 3 zero-pads the signal.
  Tensor p = run1("DFT", 17, {f64({1, 3, 1}, {1, 2, 3}), Tensor::scalar<int64_t>(5)});
  expect_close(p, {1, 5, 2}, {6, 0, -0.8090169943749475, -3.6654687894677265,
                              0.30901699437494745, 1.6775990443005142, 0.30901699437494745,
                              -1.6775990443005142, -0.8090169943749475, 3.6654687894677265});
  // Inverse one-sided: the real signal of length 2*(3-1) from half a spectrum.
  Tensor h = f64({3, 2}, {4, 0, 1, -1, -2, 0.5});
  Tensor ir = run1("DFT", 20, {h}, {make_attribute("inverse", int64_t{1}),
                                    make_attribute("onesided", int64_t{1})});
  expect_close(ir, {4, 1}, {1, 2, 0, 1});
}

TEST(DFT, FloatAndInnerAxis) {
  // Transform axis 0 of a [2, 2, 1] input: the second axis is carried along.
  Tensor x = f32({2, 2, 1}, {1, 2, 3, 5});
  Tensor y = run1("DFT", 17, {x}, {make_attribute("axis", int64_t{0})});
  ASSERT_EQ(y.dtype(), DataType::kFloat);
  expect_close(y, {2, 2, 2}, {4, 0, 7, 0, -2, 0, -3, 0}, 1e-6);
}

TEST(DFT, LongBluesteinAndRadix2AreAccurate) {
  // A pure tone exp(2*pi*i*3k/n) transforms to n at bin 3 and 0 elsewhere, for a length that
  // needs Bluestein (1000) and a power of two (1024).
  for (int64_t n : {int64_t{1000}, int64_t{1024}}) {
    std::vector<double> tone(static_cast<size_t>(2 * n));
    for (int64_t k = 0; k < n; ++k) {
      const double angle = 2.0 * 3.14159265358979323846 * static_cast<double>(3 * k) / static_cast<double>(n);
      tone[2 * k] = std::cos(angle);
      tone[2 * k + 1] = std::sin(angle);
    }
    Tensor y = run1("DFT", 20, {f64({n, 2}, tone)});
    std::vector<double> expected(static_cast<size_t>(2 * n), 0.0);
    expected[6] = static_cast<double>(n);
    expect_close(y, {n, 2}, expected, 1e-9);
  }
}

TEST(DFT, Errors) {
  expect_error([] { run1("DFT", 17, {f64({4, 2}, std::vector<double>(8, 0.0))},
                         {make_attribute("axis", int64_t{1})}); },
               {"axis", "out of range"});
  expect_error([] { run1("DFT", 20, {f64({2, 3}, std::vector<double>(6, 0.0))}); },
               {"last dim", "1 (real) or 2"});
  expect_error([] { run1("DFT", 20, {i64({2, 1}, {1, 2})}); }, {"DFT", "int64"});
  expect_error([] { run1("DFT", 20, {f64({2, 1}, {1, 2}), Tensor::scalar<int64_t>(0)}); },
               {"dft_length"});
}

TEST(STFT, WindowedOnesidedFrames) {
  Tensor sig = f64({1, 7, 1}, {1, -2, 3, 0.5, 4, -1, 2});
  Tensor w = f64({3}, {0.5, 1, 0.25});
  Tensor y = run1("STFT", 17, {sig, Tensor::scalar<int64_t>(2), w});
  expect_close(y, {1, 3, 2, 2}, {-0.75, 0, 1.125, 2.381569860407206, 3, 0, 0.75,
                                 0.4330127018922193, 1.5, 0, 2.25, 1.299038105676658});
  expect_error([&] { run1("STFT", 17, {sig, Tensor::scalar<int64_t>(0), w}); }, {"frame_step"});
  expect_error([&] { run1("STFT", 17, {sig, Tensor::scalar<int64_t>(1), w, Tensor::scalar<int64_t>(4)}); },
               {"window length 3", "frame_length 4"});
}

TEST(Windows, HannHammingBlackman) {
  Tensor hann = run1("HannWindow", 17, {Tensor::scalar<int64_t>(5)});
  ASSERT_EQ(hann.dtype(), DataType::kFloat);
  expect_close(hann, {5}, {0, 0.3454915028125263, 0.9045084971874737, 0.9045084971874737,
                           0.3454915028125264}, 1e-7);
  Tensor hamming = run1("HammingWindow", 17, {Tensor::scalar<int32_t>(5)},
                        {make_attribute("periodic", int64_t{0}),
                         make_attribute("output_datatype", int64_t{11})});
  ASSERT_EQ(hamming.dtype(), DataType::kDouble);
  expect_close(hamming, {5}, {0.08695652173913043, 0.5434782608695652, 1.0, 0.5434782608695653,
                              0.08695652173913043});
  Tensor blackman = run1("BlackmanWindow", 17, {Tensor::scalar<int64_t>(6)},
                         {make_attribute("output_datatype", int64_t{11})});
  expect_close(blackman, {6}, {0, 0.13, 0.63, 1.0, 0.63, 0.13});
  expect_error([] { run1("HannWindow", 17, {Tensor::scalar<int64_t>(-1)}); }, {"size"});
}

TEST(MelWeightMatrix, MatchesReferenceFilters) {
  Tensor y = run1("MelWeightMatrix", 17,
                  {Tensor::scalar<int64_t>(3), Tensor::scalar<int64_t>(32), Tensor::scalar<int64_t>(8000),
                   Tensor::scalar<float>(100.0f), Tensor::scalar<float>(3500.0f)});
  // Values of the ONNX reference implementation (NumPy); rows 9..16 are all zero.
  std::vector<double> expected(51, 0.0);
  const std::vector<double> head = {0, 0, 0, 1, 0, 0, 0.5, 0.5, 0, 0, 1, 0, 0, 2.0 / 3, 1.0 / 3,
                                    0, 1.0 / 3, 2.0 / 3, 0, 0, 1, 0, 0, 2.0 / 3, 0, 0, 1.0 / 3};
  std::copy(head.begin(), head.end(), expected.begin());
  ASSERT_EQ(y.dtype(), DataType::kFloat);
  expect_close(y, {17, 3}, expected, 1e-6);
  expect_error([] {
    run1("MelWeightMatrix", 17, {Tensor::scalar<int64_t>(3), Tensor::scalar<int64_t>(32),
                                 Tensor::scalar<int64_t>(8000), Tensor::scalar<float>(0.0f),
                                 Tensor::scalar<float>(9000.0f)});
  }, {"spectrogram bins"});
}

TEST(SignalShapeRules, DftAndWindow) {
  Node node = make_node("DFT", 1, 1, {make_attribute("onesided", int64_t{1})});
  TypeInfo in = TypeInfo::tensor(DataType::kFloat, std::vector<Dim>{Dim::known(2), Dim::known(8), Dim::known(1)});
  InferenceContext ctx(node, 17, {&in}, {nullptr});
  (*ShapeRuleRegistry::global().find("", "DFT"))(ctx);
  EXPECT_EQ(ctx.output_types()[0].to_string(), "float[2,5,2]");
}

}  // namespace
}  // namespace onyx::tensor_test
