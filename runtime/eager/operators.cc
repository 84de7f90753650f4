#include "runtime/eager/operators.h"

#include "runtime/eager/op_dispatch.h"
#include "runtime/eager/tensor_factory.h"

namespace onyx {

namespace {
template <const char* OpType>
Tensor binary(const Tensor& a, const Tensor& b) {
  static const eager::OpHandle op("", OpType);
  return eager::call_one(op, {&a, &b});
}
constexpr char kAdd[] = "Add", kSub[] = "Sub", kMul[] = "Mul", kDiv[] = "Div";
constexpr char kLess[] = "Less", kLessOrEqual[] = "LessOrEqual", kGreater[] = "Greater",
               kGreaterOrEqual[] = "GreaterOrEqual";
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return binary<kAdd>(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return binary<kSub>(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return binary<kMul>(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return binary<kDiv>(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return binary<kLess>(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return binary<kLessOrEqual>(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return binary<kGreater>(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return binary<kGreaterOrEqual>(a, b); }

Tensor operator-(const Tensor& a) {
  static const eager::OpHandle neg("", "Neg");
  return eager::call_one(neg, {&a});
}

Tensor operator+(const Tensor& a, double b) { return a + scalar_like(b, a); }
Tensor operator-(const Tensor& a, double b) { return a - scalar_like(b, a); }
Tensor operator*(const Tensor& a, double b) { return a * scalar_like(b, a); }
Tensor operator/(const Tensor& a, double b) { return a / scalar_like(b, a); }
Tensor operator+(double a, const Tensor& b) { return scalar_like(a, b) + b; }
Tensor operator-(double a, const Tensor& b) { return scalar_like(a, b) - b; }
Tensor operator*(double a, const Tensor& b) { return scalar_like(a, b) * b; }
Tensor operator/(double a, const Tensor& b) { return scalar_like(a, b) / b; }
Tensor operator<(const Tensor& a, double b) { return a < scalar_like(b, a); }
Tensor operator<=(const Tensor& a, double b) { return a <= scalar_like(b, a); }
Tensor operator>(const Tensor& a, double b) { return a > scalar_like(b, a); }
Tensor operator>=(const Tensor& a, double b) { return a >= scalar_like(b, a); }

}  // namespace onyx
