// libFuzzer target 'model_mutate': structure-aware fuzzing of real models. Byte flips rarely get
// past the protobuf parser, so the custom mutator parses the ModelProto, changes one node
// attribute, initializer element or declared dim to an interesting value (0, -1, 1, huge, 2^31,
// 2^62, NaN, off-by-one of the original) and serializes it; the input then runs like model_run.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "onnx/onnx-ml.pb.h"
#include "tests/fuzz/fuzz_entries.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

int64_t interesting_int(int64_t original, std::mt19937& rng) {
  static const int64_t values[] = {0, -1, 1, 2, -2, int64_t{1} << 31, (int64_t{1} << 31) - 1,
                                   int64_t{1} << 62, std::numeric_limits<int64_t>::max(),
                                   std::numeric_limits<int64_t>::min(), int64_t{1} << 20, 1000003};
  // Off-by-one and negation wrap (in unsigned arithmetic: INT64_MIN - 1 must not be UB here).
  const uint64_t bits = static_cast<uint64_t>(original);
  switch (rng() % 4) {
    case 0: return static_cast<int64_t>(bits + 1);
    case 1: return static_cast<int64_t>(bits - 1);
    case 2: return static_cast<int64_t>(0 - bits);
    default: return values[rng() % std::size(values)];
  }
}

float interesting_float(float original, std::mt19937& rng) {
  static const float values[] = {0.0f, -1.0f, 1.0f, 1e30f, -1e30f, std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::infinity(), -0.0f, 2147483648.0f, 1e-40f};
  if (rng() % 4 == 0) return original + 1.0f;
  return values[rng() % std::size(values)];
}

// One element of an initializer, in whichever field holds its values.
void mutate_tensor(onnx::TensorProto& t, std::mt19937& rng) {
  if (rng() % 8 == 0 && t.dims_size() > 0) {
    int k = static_cast<int>(rng() % t.dims_size());
    t.set_dims(k, interesting_int(t.dims(k), rng));
    return;
  }
  if (t.int64_data_size() > 0) {
    int k = static_cast<int>(rng() % t.int64_data_size());
    t.set_int64_data(k, interesting_int(t.int64_data(k), rng));
  } else if (t.int32_data_size() > 0) {
    int k = static_cast<int>(rng() % t.int32_data_size());
    t.set_int32_data(k, static_cast<int32_t>(interesting_int(t.int32_data(k), rng)));
  } else if (t.float_data_size() > 0) {
    int k = static_cast<int>(rng() % t.float_data_size());
    t.set_float_data(k, interesting_float(t.float_data(k), rng));
  } else if (!t.raw_data().empty()) {
    std::string* raw = t.mutable_raw_data();
    if (t.data_type() == onnx::TensorProto::INT64 && raw->size() >= 8) {
      size_t k = (rng() % (raw->size() / 8)) * 8;
      int64_t v;
      memcpy(&v, raw->data() + k, 8);
      v = interesting_int(v, rng);
      memcpy(raw->data() + k, &v, 8);
    } else if ((t.data_type() == onnx::TensorProto::FLOAT || t.data_type() == onnx::TensorProto::INT32) &&
               raw->size() >= 4) {
      size_t k = (rng() % (raw->size() / 4)) * 4;
      if (t.data_type() == onnx::TensorProto::FLOAT) {
        float v;
        memcpy(&v, raw->data() + k, 4);
        v = interesting_float(v, rng);
        memcpy(raw->data() + k, &v, 4);
      } else {
        int32_t v;
        memcpy(&v, raw->data() + k, 4);
        v = static_cast<int32_t>(interesting_int(v, rng));
        memcpy(raw->data() + k, &v, 4);
      }
    } else {
      (*raw)[rng() % raw->size()] ^= static_cast<char>(1u << (rng() % 8));
    }
  }
}

void mutate_attribute(onnx::AttributeProto& a, std::mt19937& rng) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: a.set_i(interesting_int(a.i(), rng)); break;
    case onnx::AttributeProto::FLOAT: a.set_f(interesting_float(a.f(), rng)); break;
    case onnx::AttributeProto::INTS:
      if (a.ints_size() == 0 || rng() % 8 == 0) a.add_ints(interesting_int(0, rng));
      else {
        int k = static_cast<int>(rng() % a.ints_size());
        a.set_ints(k, interesting_int(a.ints(k), rng));
      }
      break;
    case onnx::AttributeProto::FLOATS:
      if (a.floats_size() > 0) {
        int k = static_cast<int>(rng() % a.floats_size());
        a.set_floats(k, interesting_float(a.floats(k), rng));
      }
      break;
    case onnx::AttributeProto::TENSOR: mutate_tensor(*a.mutable_t(), rng); break;
    case onnx::AttributeProto::STRING: a.set_s(rng() % 2 ? "" : a.s() + "x"); break;
    default: break;
  }
}

void mutate_dims(onnx::ValueInfoProto& info, std::mt19937& rng) {
  if (!info.type().has_tensor_type()) return;
  auto* shape = info.mutable_type()->mutable_tensor_type()->mutable_shape();
  if (shape->dim_size() == 0) return;
  auto* dim = shape->mutable_dim(static_cast<int>(rng() % shape->dim_size()));
  dim->set_dim_value(interesting_int(dim->has_dim_value() ? dim->dim_value() : 1, rng));
}

void mutate_model(onnx::ModelProto& model, std::mt19937& rng) {
  onnx::GraphProto& g = *model.mutable_graph();
  for (int attempt = 0; attempt < 4; ++attempt) {
    switch (rng() % 4) {
      case 0: {  // a node attribute
        if (g.node_size() == 0) break;
        auto& node = *g.mutable_node(static_cast<int>(rng() % g.node_size()));
        if (node.attribute_size() == 0) break;
        mutate_attribute(*node.mutable_attribute(static_cast<int>(rng() % node.attribute_size())), rng);
        return;
      }
      case 1:  // an initializer element
        if (g.initializer_size() == 0) break;
        mutate_tensor(*g.mutable_initializer(static_cast<int>(rng() % g.initializer_size())), rng);
        return;
      case 2:  // a declared input dim
        if (g.input_size() == 0) break;
        mutate_dims(*g.mutable_input(static_cast<int>(rng() % g.input_size())), rng);
        return;
      default:  // a declared output or intermediate dim
        if (g.output_size() == 0) break;
        mutate_dims(*g.mutable_output(static_cast<int>(rng() % g.output_size())), rng);
        return;
    }
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  onnx::ModelProto model;
  std::mt19937 rng(seed);
  // Unparsable inputs (and a few parsable ones, to keep some byte-level variety) mutate as bytes.
  if (rng() % 16 == 0 || !model.ParseFromArray(data, static_cast<int>(size))) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  mutate_model(model, rng);
  std::string bytes;
  if (!model.SerializeToString(&bytes) || bytes.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  onyx::fuzz::fuzz_model_run(data, size);
  return 0;
}
