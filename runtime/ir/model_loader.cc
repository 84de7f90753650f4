#include "runtime/ir/model_loader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <optional>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "onnx/onnx-ml.pb.h"
#include "onnx_ops/op_schema.h"
#include "runtime/ir/function_inliner.h"
#include "runtime/ir/tensor_proto.h"

namespace onyx {

namespace fs = std::filesystem;

namespace {
// Subgraphs (If branches, Loop and Scan bodies) nest at most this deep. Every later pass (checks,
// type inference, planning, running) recurses once per level, so a limit here is what keeps a
// hostile model from exhausting the stack; real models nest a handful of levels.
constexpr int kMaxSubgraphNesting = 100;
// Protobuf's own limit on nested messages: a subgraph level is three (Graph > Node > Attribute),
// so models within kMaxSubgraphNesting parse and deeper ones get the readable error below.
constexpr int kMaxProtobufNesting = 4 * kMaxSubgraphNesting + 16;

thread_local int subgraph_nesting = 0;

// Counts one level of subgraph nesting for as long as it lives.
class NestingLevel {
 public:
  NestingLevel() {
    if (++subgraph_nesting > kMaxSubgraphNesting) {
      --subgraph_nesting;
      throw_error(ErrorCode::kInvalidModel, "subgraphs are nested more than ", kMaxSubgraphNesting,
                  " deep (an If, Loop or Scan inside another, over and over); onyx refuses models nested that deep");
    }
  }
  ~NestingLevel() { --subgraph_nesting; }
  NestingLevel(const NestingLevel&) = delete;
  NestingLevel& operator=(const NestingLevel&) = delete;
};
}  // namespace

std::string read_file_bytes(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) throw_error(ErrorCode::kInvalidArgument, "file not found: ", path.string());
  if (fs::is_directory(path, error)) {
    throw_error(ErrorCode::kInvalidArgument, path.string(), " is a folder, expected a file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw_error(ErrorCode::kInvalidArgument, "cannot open ", path.string());
  // Block reads: an istreambuf_iterator copies a character at a time, which was a third of
  // ResNet-18's session creation. The size is only a hint (the file may change meanwhile).
  std::string bytes;
  const auto hint = fs::file_size(path, error);
  constexpr size_t kBlock = size_t{1} << 20;
  // Room for the last block's resize too: with only the file's size reserved, that resize
  // reallocated, and the copy doubled the capacity (a 47 MB model took 94 MB).
  if (!error) bytes.reserve(static_cast<size_t>(hint) + kBlock);
  for (size_t used = 0; file;) {
    bytes.resize(used + kBlock);
    file.read(bytes.data() + used, static_cast<std::streamsize>(kBlock));
    used += static_cast<size_t>(file.gcount());
    bytes.resize(used);
  }
  if (file.bad()) throw_error(ErrorCode::kInvalidArgument, "cannot read ", path.string());
  return bytes;
}

TypeInfo type_from_proto(const onnx::TypeProto& proto) {
  auto shape_of = [](const onnx::TensorShapeProto& shape) {
    std::vector<Dim> dims;
    for (const auto& d : shape.dim()) {
      if (d.has_dim_value()) dims.push_back(Dim::known(d.dim_value()));
      else if (d.has_dim_param()) dims.push_back(Dim::named(d.dim_param()));
      else dims.push_back(Dim{});
    }
    return dims;
  };
  switch (proto.value_case()) {
    case onnx::TypeProto::kTensorType:
    case onnx::TypeProto::kSparseTensorType: {
      bool sparse = proto.value_case() == onnx::TypeProto::kSparseTensorType;
      int32_t elem = sparse ? proto.sparse_tensor_type().elem_type() : proto.tensor_type().elem_type();
      bool has_shape = sparse ? proto.sparse_tensor_type().has_shape() : proto.tensor_type().has_shape();
      TypeInfo info;
      info.kind = sparse ? TypeInfo::Kind::kSparseTensor : TypeInfo::Kind::kTensor;
      info.elem_type = elem == 0 ? DataType::kUndefined : dtype_from_code(elem);
      if (has_shape) {
        info.shape = shape_of(sparse ? proto.sparse_tensor_type().shape() : proto.tensor_type().shape());
      }
      return info;
    }
    case onnx::TypeProto::kSequenceType:
      return TypeInfo::wrapping(TypeInfo::Kind::kSequence, type_from_proto(proto.sequence_type().elem_type()));
    case onnx::TypeProto::kOptionalType:
      return TypeInfo::wrapping(TypeInfo::Kind::kOptional, type_from_proto(proto.optional_type().elem_type()));
    case onnx::TypeProto::kMapType: {
      TypeInfo info = TypeInfo::wrapping(TypeInfo::Kind::kMap, type_from_proto(proto.map_type().value_type()));
      info.elem_type = dtype_from_code(proto.map_type().key_type());
      return info;
    }
    default:
      return {};
  }
}

namespace {

ValueInfo value_info_from_proto(const onnx::ValueInfoProto& proto) {
  return {proto.name(), proto.has_type() ? type_from_proto(proto.type()) : TypeInfo{}, proto.doc_string()};
}

Attribute attribute_from_proto(const onnx::AttributeProto& proto, const fs::path& model_dir) {
  Attribute a;
  a.name = proto.name();
  a.ref_attr_name = proto.ref_attr_name();
  a.kind = static_cast<Attribute::Kind>(proto.type());
  if (a.kind == Attribute::Kind::kUndefined) {
    // Pre-IR-v2 models leave the type unset: infer it from the field that is set.
    if (proto.has_f()) a.kind = Attribute::Kind::kFloat;
    else if (proto.has_i()) a.kind = Attribute::Kind::kInt;
    else if (proto.has_s()) a.kind = Attribute::Kind::kString;
    else if (proto.has_t()) a.kind = Attribute::Kind::kTensor;
    else if (proto.has_g()) a.kind = Attribute::Kind::kGraph;
    else if (proto.floats_size()) a.kind = Attribute::Kind::kFloats;
    else if (proto.ints_size()) a.kind = Attribute::Kind::kInts;
    else if (proto.strings_size()) a.kind = Attribute::Kind::kStrings;
    else if (proto.tensors_size()) a.kind = Attribute::Kind::kTensors;
    else if (proto.graphs_size()) a.kind = Attribute::Kind::kGraphs;
  }
  a.f = proto.f();
  a.i = proto.i();
  a.s = proto.s();
  if (proto.has_t()) a.t = tensor_from_proto(proto.t(), model_dir);
  if (proto.has_sparse_tensor()) a.t = tensor_from_sparse_proto(proto.sparse_tensor(), model_dir);
  if (proto.has_g()) a.g = std::make_shared<Graph>(graph_from_proto(proto.g(), model_dir));
  // Every Graph attribute in memory then holds a graph (kernels, savers and passes dereference it).
  ONYX_CHECK(a.kind != Attribute::Kind::kGraph || a.g != nullptr, ErrorCode::kInvalidModel, "attribute '", a.name,
             "' is declared a graph but holds none");
  if (proto.has_tp()) a.tp = type_from_proto(proto.tp());
  a.floats.assign(proto.floats().begin(), proto.floats().end());
  a.ints.assign(proto.ints().begin(), proto.ints().end());
  a.strings.assign(proto.strings().begin(), proto.strings().end());
  for (const auto& t : proto.tensors()) a.tensors.push_back(tensor_from_proto(t, model_dir));
  for (const auto& t : proto.sparse_tensors()) a.tensors.push_back(tensor_from_sparse_proto(t, model_dir));
  for (const auto& g : proto.graphs()) a.graphs.push_back(std::make_shared<Graph>(graph_from_proto(g, model_dir)));
  for (const auto& tp : proto.type_protos()) a.type_protos.push_back(type_from_proto(tp));
  return a;
}

Node node_from_proto(const onnx::NodeProto& proto, const fs::path& model_dir) {
  Node node;
  node.name = proto.name();
  node.op_type = proto.op_type();
  node.domain = canonical_domain(proto.domain());
  node.inputs.assign(proto.input().begin(), proto.input().end());
  node.outputs.assign(proto.output().begin(), proto.output().end());
  node.doc = proto.doc_string();
  for (const auto& attribute : proto.attribute()) {
    node.attributes.push_back(attribute_from_proto(attribute, model_dir));
  }
  return node;
}

void check_opset(const std::string& domain, int64_t version) {
  int64_t newest = 0;
  if (domain.empty()) newest = kLatestOnnxOpset;
  else if (domain == "ai.onnx.ml") newest = kLatestOnnxMlOpset;
  else if (domain == "ai.onnx.preview.training") newest = kLatestTrainingOpset;
  else return;  // custom domains carry their own versions
  if (version < 1 || version > newest) {
    throw_error(ErrorCode::kNotImplemented, "model imports opset ", version, " of domain '",
                display_domain(domain), "'; onyx supports opsets 1 to ", newest);
  }
}

}  // namespace

namespace {
// Builds the IR graph; with `consumed` (the same message, owned by the caller) initializers
// take their raw bytes from the message instead of copying them, so a model's weights exist
// once, not twice (proto and tensors), while it loads.
Graph graph_from_proto_releasing(const onnx::GraphProto& proto, const fs::path& model_dir, onnx::GraphProto* consumed) {
  NestingLevel level;
  Graph graph;
  graph.name = proto.name();
  graph.doc = proto.doc_string();
  for (const auto& node : proto.node()) graph.nodes.push_back(node_from_proto(node, model_dir));
  for (const auto& v : proto.input()) graph.inputs.push_back(value_info_from_proto(v));
  for (const auto& v : proto.output()) graph.outputs.push_back(value_info_from_proto(v));
  for (const auto& v : proto.value_info()) graph.value_info.push_back(value_info_from_proto(v));
  for (int i = 0; i < proto.initializer_size(); ++i) {
    const onnx::TensorProto& t = proto.initializer(i);
    if (t.name().empty()) throw_error(ErrorCode::kInvalidModel, "graph '", proto.name(), "' has an unnamed initializer");
    graph.set_initializer(t.name(), consumed ? tensor_taking_proto_bytes(*consumed->mutable_initializer(i), model_dir)
                                             : tensor_from_proto(t, model_dir));
  }
  for (const auto& sparse : proto.sparse_initializer()) {
    graph.set_initializer(sparse.values().name(), tensor_from_sparse_proto(sparse, model_dir));
  }
  return graph;
}

Model model_from_proto_releasing(const onnx::ModelProto& proto, const fs::path& model_dir, onnx::ModelProto* consumed);
}  // namespace

Graph graph_from_proto(const onnx::GraphProto& proto, const fs::path& model_dir) {
  return graph_from_proto_releasing(proto, model_dir, nullptr);
}

Model model_from_proto(const onnx::ModelProto& proto, const fs::path& model_dir) {
  return model_from_proto_releasing(proto, model_dir, nullptr);
}

namespace {
Model model_from_proto_releasing(const onnx::ModelProto& proto, const fs::path& model_dir, onnx::ModelProto* consumed) {
  if (!proto.has_graph()) {
    throw_error(ErrorCode::kInvalidModel, "not an ONNX model: no graph (is the file truncated or of another format?)");
  }
  if (proto.ir_version() <= 0) {
    throw_error(ErrorCode::kInvalidModel, "not an ONNX model: missing ir_version");
  }
  Model model;
  model.ir_version = proto.ir_version();
  model.producer_name = proto.producer_name();
  model.producer_version = proto.producer_version();
  model.domain = proto.domain();
  model.model_version = proto.model_version();
  model.doc = proto.doc_string();
  for (const auto& opset : proto.opset_import()) {
    std::string domain = canonical_domain(opset.domain());
    check_opset(domain, opset.version());
    model.opsets[domain] = opset.version();
  }
  // IR version 1-2 models predate opset_import and mean opset 1.
  if (model.opsets.empty()) model.opsets[""] = 1;
  for (const auto& entry : proto.metadata_props()) model.metadata.emplace_back(entry.key(), entry.value());
  model.graph = graph_from_proto_releasing(proto.graph(), model_dir, consumed ? consumed->mutable_graph() : nullptr);
  if (proto.functions_size() > 0) inline_model_functions(proto, model_dir, model);
  return model;
}

onnx::ModelProto parse_model_proto(const void* data, size_t size) {
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw_error(ErrorCode::kInvalidModel, "model of ", size, " bytes is over protobuf's 2 GiB limit; store weights as external data");
  }
  onnx::ModelProto proto;
  google::protobuf::io::ArrayInputStream stream(data, static_cast<int>(size));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetRecursionLimit(kMaxProtobufNesting);
  if (size == 0 || !proto.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    throw_error(ErrorCode::kInvalidModel, "not a valid ONNX model: the protobuf could not be parsed (",
                size, " bytes; truncated, another format, or messages nested over ", kMaxProtobufNesting, " deep?)");
  }
  return proto;
}
}  // namespace

Model load_model_from_bytes(const void* data, size_t size, const fs::path& model_dir) {
  onnx::ModelProto proto = parse_model_proto(data, size);
  return model_from_proto_releasing(proto, model_dir, &proto);
}

namespace {
// A model file mapped read-only, so protobuf parses the page cache's pages in place: reading
// it into a string first cost a zero-filled copy of the whole file (a third of loading
// MobileNetV2). Files are written by rename (temp + rename), which keeps a mapped file's pages
// alive. Anything that is not a plain, non-empty, mappable file is read the ordinary way,
// whose errors name what is wrong.
class MappedModelFile {
 public:
  static std::optional<MappedModelFile> open(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat info {};
    void* data = MAP_FAILED;
    if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
      data = mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);  // the mapping stays valid
    if (data == MAP_FAILED) return std::nullopt;
    madvise(data, static_cast<size_t>(info.st_size), MADV_SEQUENTIAL);
    return MappedModelFile(data, static_cast<size_t>(info.st_size));
  }
  MappedModelFile(MappedModelFile&& other) noexcept : data_(other.data_), size_(other.size_) { other.data_ = nullptr; }
  MappedModelFile(const MappedModelFile&) = delete;
  MappedModelFile& operator=(const MappedModelFile&) = delete;
  MappedModelFile& operator=(MappedModelFile&&) = delete;
  ~MappedModelFile() { unmap(); }

  const void* data() const { return data_; }
  size_t size() const { return size_; }
  void unmap() {
    if (data_) munmap(data_, size_);
    data_ = nullptr;
  }

 private:
  MappedModelFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_;
  size_t size_;
};
}  // namespace

Model load_model(const fs::path& path) {
  std::optional<MappedModelFile> mapped = MappedModelFile::open(path);
  std::string bytes;
  if (!mapped) bytes = read_file_bytes(path);
  try {
    onnx::ModelProto proto = mapped ? parse_model_proto(mapped->data(), mapped->size())
                                    : parse_model_proto(bytes.data(), bytes.size());
    // The file's bytes go once parsed: peak memory while loading is what the weights take
    // twice (parsed message, then tensors, freed one by one), not three times.
    if (mapped) mapped->unmap();
    std::string().swap(bytes);
    return model_from_proto_releasing(proto, fs::absolute(path).parent_path(), &proto);
  } catch (const Error& error) {
    throw Error(error.code(), path.filename().string() + ": " + error.what());
  }
}

}  // namespace onyx
