#!/usr/bin/env python3
"""Generates the typed eager op wrappers (runtime/eager/ops/*.h, *.cc) from the ONNX schemas of
the pinned onnx package, for every op onyx has a CPU kernel for at the eager opset.

Each wrapper is one eager call (runtime/eager/op_dispatch.h) with the op's inputs as tensors
and its attributes as a struct of optional members, so attributes read as named arguments:

    Tensor ops::conv(const Tensor& x, const Tensor& w, const ConvAttributes& attributes = {});
    ops::conv(x, w, {.strides = {2, 2}, .pads = {1, 1, 1, 1}});

Unset members are not passed, so the kernel applies the ONNX default. Ops are grouped by the
kernel family folder that implements them (providers/cpu/<family>/). Ops whose inputs or
outputs are sequences or optionals, and ops with graph attributes (If, Loop, Scan: see
runtime/eager/control_flow.h), are left to eager::call_values.

Run from the repository root after adding kernels:  .venv/bin/python scripts/generate_eager_ops.py
"""
import collections
import glob
import os
import re

import onnx.defs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "runtime", "eager", "ops")



def eager_opsets():
    """The opsets eager calls use (runtime/eager/op_dispatch.cc default_opset): onyx's newest."""
    text = open(os.path.join(ROOT, "onnx_ops", "op_schema.h")).read()
    found = dict(re.findall(r"constexpr int64_t (kLatest\w+Opset) = (\d+);", text))
    return int(found["kLatestOnnxOpset"]), int(found["kLatestOnnxMlOpset"]), int(found["kLatestTrainingOpset"])


_ONNX, _ML, _TRAINING = eager_opsets()
DOMAINS = {"": ("ops", _ONNX), "ai.onnx.ml": ("ops::ml", _ML), "ai.onnx.preview.training": ("ops::training", _TRAINING),
           "ai.onnx.preview": ("ops::preview", 1)}
NAMESPACES = ("ops", "ops::ml", "ops::training", "ops::preview")
DOMAIN_CONSTANTS = {'""': "", "kMlDomain": "ai.onnx.ml", "kTrainingDomain": "ai.onnx.preview.training",
                    "kOnyxDomain": "com.onyx"}  # onyx-internal ops (optimizer rewrites): no wrappers
REGISTRATION = re.compile(
    r'ONYX_REGISTER_KERNEL(?:_FACTORY)?\(\s*"CPU",\s*([^,]+?),\s*"(\w+)",\s*(\d+),\s*(\w+)', re.S)

NAME_OVERRIDES = {"MatMul": "matmul", "MatMulInteger": "matmul_integer", "QLinearMatMul": "qlinear_matmul",
                  "QLinearConv": "qlinear_conv", "IsNaN": "is_nan", "Col2Im": "col2im"}
CPP_KEYWORDS = {"and", "or", "not", "xor", "default", "case", "char", "int", "float", "double", "bool", "class",
                "new", "delete", "this", "true", "false", "auto", "register", "template", "typename", "union",
                "short", "long", "signed", "unsigned", "switch", "return", "for", "while", "do", "if", "else",
                "break", "continue", "const", "static", "struct", "enum", "namespace", "operator", "private",
                "public", "protected", "virtual", "friend", "inline", "explicit", "export", "extern", "mutable",
                "goto", "sizeof", "typeid", "void", "volatile", "try", "catch", "throw", "using", "asm",
                "concept", "requires", "module", "import", "bitand", "bitor", "compl", "not_eq", "or_eq",
                "xor_eq", "and_eq", "attributes", "output_count", "op", "call_inputs", "list", "item"}
DTYPE_ATTRIBUTES = {"to", "dtype", "output_dtype", "stash_type", "output_datatype"}
A = onnx.defs.OpSchema.AttrType
MEMBER_TYPES = {A.INT: "std::optional<int64_t>", A.FLOAT: "std::optional<float>",
                A.STRING: "std::optional<std::string>", A.INTS: "eager::IntList", A.FLOATS: "eager::FloatList",
                A.STRINGS: "eager::StringList", A.TENSOR: "std::optional<Tensor>"}
Option = onnx.defs.OpSchema.FormalParameterOption


def snake(name):
    if name in NAME_OVERRIDES:
        return NAME_OVERRIDES[name]
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def identifier(name):
    name = re.sub(r"\W", "_", snake(name) if name[:1].isupper() else name)
    return name + "_" if name in CPP_KEYWORDS else name


def kernels():
    """(domain, op) -> (family, [(since, until)]) from the CPU kernel registrations."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "providers", "cpu", "*", "*.cc"))):
        family = os.path.basename(os.path.dirname(path))
        for domain_token, op, since, until in REGISTRATION.findall(open(path).read()):
            token = domain_token.strip()
            domain = token.strip('"') if token.startswith('"') else DOMAIN_CONSTANTS.get(token)
            if domain is None:
                raise SystemExit(f"{path}: unknown domain constant {domain_token}; add it to DOMAIN_CONSTANTS")
            until = 1 << 30 if until == "kOpsetOpenEnded" else int(until)
            entry = found.setdefault((domain, op), (family, []))
            entry[1].append((int(since), until))
    return found


def tensor_only(parameters):
    return all(any(t.startswith("tensor(") for t in p.types) for p in parameters)


def wrapper(domain, op, schema):
    """The declaration and definition text of one op's wrappers, or None when it is skipped."""
    if not tensor_only(schema.inputs) or not tensor_only(schema.outputs):
        return None
    if any(a.type in (A.GRAPH, A.GRAPHS) for a in schema.attributes.values()):
        return None
    function = identifier(op)
    attributes = [(name, a) for name, a in sorted(schema.attributes.items()) if a.type in MEMBER_TYPES]
    struct = f"{op}Attributes" if attributes else None

    required, optional, variadic = [], [], None
    for p in schema.inputs:
        if p.option == Option.Variadic:
            variadic = p
        elif p.option == Option.Optional:
            optional.append(p)
        else:
            if optional:  # a required input after an optional one: treat the optional ones as required
                required += optional
                optional = []
            required.append(p)
    outputs = schema.outputs
    variadic_output = any(o.option == Option.Variadic for o in outputs)
    single = not variadic_output and outputs and outputs[0].option == Option.Single and all(
        o.option == Option.Optional for o in outputs[1:])
    single = single or (len(outputs) == 1 and not variadic_output)
    result = "Tensor" if single else "std::vector<Tensor>"

    decls, defs = [], []
    input_names = [p.name + (" (optional)" if p in optional else "") + ("..." if p is variadic else "")
                   for p in schema.inputs]
    doc = f"// {op} ({onnx_domain_name(domain)}, since opset {schema.since_version}): {', '.join(input_names)}"
    if not single:
        doc += f" -> {', '.join(o.name for o in outputs)}"
    decls.append(doc)
    if struct:
        decls_struct = [f"struct {struct} {{"]
        for name, a in attributes:
            member = "std::optional<DataType>" if a.type == A.INT and name in DTYPE_ATTRIBUTES else MEMBER_TYPES[a.type]
            decls_struct.append(f"  {member} {identifier(name)};")
        decls_struct.append("};")
        decls = decls_struct + decls

    shared_builder = struct and optional
    if shared_builder:
        # One list builder per op, shared by the overloads (one per count of optional inputs).
        builder = [f"static eager::AttributeList {function}_attributes(const {struct}& attributes) {{",
                   "  eager::AttributeList list;"]
        builder += [f'  list.add("{name}", attributes.{identifier(name)});' for name, _ in attributes]
        builder += ["  return list;", "}"]
        defs.append("\n".join(builder))
    for extra in range(len(optional) + 1):
        params = [f"const Tensor& {identifier(p.name)}" for p in required + optional[:extra]]
        pointers = [f"&{identifier(p.name)}" for p in required + optional[:extra]]
        if variadic is not None:
            params.append(f"const std::vector<Tensor>& {identifier(variadic.name)}")
        if variadic_output:
            params.append("size_t output_count")
        signature_params = params + ([f"const {struct}& attributes = {{}}"] if struct else [])
        definition_params = params + ([f"const {struct}& attributes"] if struct else [])
        decls.append(f"{result} {function}({', '.join(signature_params)});")
        body = [f"{result} {function}({', '.join(definition_params)}) {{",
                f'  static const eager::OpHandle op("{domain}", "{op}");']
        attributes_argument = "{}"
        if shared_builder:
            body.append(f"  const eager::AttributeList list = {function}_attributes(attributes);")
            attributes_argument = "list.items()"
        elif struct:
            body.append("  eager::AttributeList list;")
            body += [f'  list.add("{name}", attributes.{identifier(name)});' for name, _ in attributes]
            attributes_argument = "list.items()"
        if variadic is None and single:
            body.append(f"  return eager::call_one(op, {{{', '.join(pointers)}}}, {attributes_argument});")
        else:
            body.append(f"  std::vector<const Tensor*> call_inputs{{{', '.join(pointers)}}};")
            if variadic is not None:
                body.append(f"  for (const Tensor& item : {identifier(variadic.name)}) call_inputs.push_back(&item);")
            count = "output_count" if variadic_output else ("1" if single else str(len(outputs)))
            call = f"eager::call(op, call_inputs, {attributes_argument}, {count})"
            body.append(f"  return {call}{'.front()' if single else ''};")
        body.append("}")
        defs.append("\n".join(body))
    return "\n".join(decls), "\n\n".join(defs)


def onnx_domain_name(domain):
    return domain or "ai.onnx"


def main():
    registered = kernels()
    families = collections.defaultdict(list)
    skipped = []
    for (domain, op), (family, ranges) in sorted(registered.items()):
        namespace, opset = DOMAINS.get(domain, (None, None))
        if namespace is None or not any(since <= opset <= until for since, until in ranges):
            continue
        try:
            schema = onnx.defs.get_schema(op, opset, domain)
        except onnx.defs.SchemaError:
            continue
        text = wrapper(domain, op, schema)
        if text is None:
            skipped.append(op)
            continue
        families[family].append((domain, op, namespace, text))

    os.makedirs(OUT, exist_ok=True)
    for old in glob.glob(os.path.join(OUT, "*")):
        os.remove(old)
    header_banner = "// Generated by scripts/generate_eager_ops.py from the onnx schemas; do not edit.\n"
    for family, entries in sorted(families.items()):
        decl_lines = [header_banner + f"// Eager wrappers of the {family} ops (kernels in providers/cpu/{family}/).",
                      "#pragma once", "", "#include <optional>", "#include <string>", "#include <vector>", "",
                      '#include "runtime/eager/attribute_list.h"', "", "namespace onyx {"]
        def_lines = [header_banner.rstrip(), f'#include "runtime/eager/ops/{family}.h"', "",
                     '#include "runtime/eager/op_dispatch.h"', "", "namespace onyx {"]
        for namespace in NAMESPACES:
            members = [e for e in entries if e[2] == namespace]
            if not members:
                continue
            decl_lines += ["", f"namespace {namespace} {{", ""]
            def_lines += ["", f"namespace {namespace} {{", ""]
            for _, _, _, (decl, definition) in members:
                decl_lines += [decl, ""]
                def_lines += [definition, ""]
            decl_lines.append(f"}}  // namespace {namespace}")
            def_lines.append(f"}}  // namespace {namespace}")
        decl_lines += ["", "}  // namespace onyx", ""]
        def_lines += ["", "}  // namespace onyx", ""]
        open(os.path.join(OUT, f"{family}.h"), "w").write("\n".join(decl_lines))
        open(os.path.join(OUT, f"{family}.cc"), "w").write("\n".join(def_lines))

    listing = [header_banner.rstrip(), '#include "runtime/eager/ops.h"', "", "namespace onyx::ops {", "",
               "const std::vector<std::pair<std::string, std::string>>& generated_ops() {",
               "  static const std::vector<std::pair<std::string, std::string>> ops{"]
    for family, entries in sorted(families.items()):
        for domain, op, _, _ in entries:
            listing.append(f'      {{"{domain}", "{op}"}},')
    listing += ["  };", "  return ops;", "}", "", "const std::vector<std::string>& ops_left_to_call_values() {",
                "  static const std::vector<std::string> ops{" + ", ".join(f'"{op}"' for op in sorted(skipped)) + "};",
                "  return ops;", "}", "", "}  // namespace onyx::ops", ""]
    open(os.path.join(OUT, "generated_op_list.cc"), "w").write("\n".join(listing))
    includes = "\n".join(f'#include "runtime/eager/ops/{family}.h"' for family in sorted(families))
    open(os.path.join(OUT, "all_families.h"), "w").write(
        header_banner + "// Every family's wrappers; include runtime/eager/ops.h instead.\n#pragma once\n\n" + includes + "\n")
    total = sum(len(e) for e in families.values())
    print(f"{total} wrappers in {len(families)} families; left to call_values: {', '.join(sorted(skipped))}")


if __name__ == "__main__":
    main()
