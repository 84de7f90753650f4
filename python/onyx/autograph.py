"""AutoGraph for onyx.function: a source transformation that turns Python control flow on
tensors into ONNX Loop and If nodes, as TensorFlow's AutoGraph does.

`convert(fn)` parses the function's source and rewrites, inside-out, each

    if TEST: ...  else: ...           -> control_flow.if_stmt(TEST, then_fn, else_fn, ...)
    while TEST: ...                   -> control_flow.while_stmt(test_fn, body_fn, ...)
    for TARGET in ITERABLE: ...       -> control_flow.for_stmt(ITERABLE, body_fn, ...)

where each branch or body becomes a nested function that takes the variables the statement
assigns and returns their new values. At run time (control_flow.py) a Python condition or
iterable runs the statement as plain Python; a tensor one, while tracing, calls the C++ builders
(runtime/eager/control_flow.h) so the statement becomes one node. `and`, `or` and `not` in
conditions are rewritten too, so they work on tensors.

Statements whose bodies `return`, `break`, `continue`, `yield` or declare `global`/`nonlocal`
are left as they are: on a tensor they fail at trace time with a message saying so. Only the
decorated function itself is converted, not functions it calls (call onyx.function on those).
"""
import ast
import inspect
import textwrap

from onyx import control_flow

_PREFIX = "__onyx"


class _Assigned(ast.NodeVisitor):
    """Names a statement list binds, not counting nested scopes (functions, lambdas, classes and
    comprehensions bind their own)."""

    def __init__(self):
        self.names = []

    def _add(self, name):
        if not name.startswith(_PREFIX) and name not in self.names:
            self.names.append(name)

    def visit_Name(self, node):
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._add(node.id)

    def visit_FunctionDef(self, node):
        if node.name.startswith(_PREFIX):
            # A statement converted earlier: what it assigns is in its result assignment.
            return
        self._add(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._add(node.name)

    def visit_Lambda(self, node):
        pass

    def visit_ListComp(self, node):
        pass

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp

    def visit_NamedExpr(self, node):
        self._add(node.target.id)
        self.visit(node.value)

    def visit_Import(self, node):
        for alias in node.names:
            self._add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import


def _assigned(statements):
    visitor = _Assigned()
    for statement in statements:
        visitor.visit(statement)
    return visitor.names


class _Unconvertible(ast.NodeVisitor):
    """Whether a body leaves its statement other than by falling through (or is a generator)."""

    def __init__(self):
        self.found = None
        self.loop_depth = 0

    def visit_Return(self, node):
        self.found = self.found or "return"

    def visit_Yield(self, node):
        self.found = self.found or "yield"

    visit_YieldFrom = visit_Yield

    def visit_Global(self, node):
        self.found = self.found or "global"

    def visit_Nonlocal(self, node):
        self.found = self.found or "nonlocal"

    def visit_Break(self, node):
        if self.loop_depth == 0:
            self.found = self.found or "break"

    def visit_Continue(self, node):
        if self.loop_depth == 0:
            self.found = self.found or "continue"

    def _loop(self, node):
        self.loop_depth += 1
        self.generic_visit(node)
        self.loop_depth -= 1

    visit_For = visit_While = visit_AsyncFor = _loop

    def visit_FunctionDef(self, node):
        pass

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef


def _unconvertible(statements):
    visitor = _Unconvertible()
    for statement in statements:
        visitor.visit(statement)
    return visitor.found


def _helper(name):
    return ast.Attribute(value=ast.Name(id=f"{_PREFIX}_ag", ctx=ast.Load()), attr=name, ctx=ast.Load())


def _call(name, *args):
    return ast.Call(func=_helper(name), args=list(args), keywords=[])


def _names_tuple(names, ctx):
    return ast.Tuple(elts=[ast.Name(id=n, ctx=ctx()) for n in names], ctx=ctx())


def _strings(names):
    return ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load())


def _function(name, parameters, body, names):
    """def NAME(PARAMETERS): BODY; return (NAMES...)"""
    arguments = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in parameters], vararg=None,
                              kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    statements = list(body) + [ast.Return(value=_names_tuple(names, ast.Load))]
    return ast.FunctionDef(name=name, args=arguments, body=statements, decorator_list=[], returns=None,
                           type_comment=None)


def _current_values(names):
    """The values the names have now; control_flow.UNDEFINED for those not bound yet."""
    locals_call = ast.Call(func=ast.Name(id="locals", ctx=ast.Load()), args=[], keywords=[])
    return _call("read", locals_call, _strings(names))


def _assign_results(names, call):
    if not names:
        return ast.Expr(value=call)
    return ast.Assign(targets=[_names_tuple(names, ast.Store)], value=call, type_comment=None)


class _Conditions(ast.NodeTransformer):
    """`a and b`, `a or b`, `not a` in a condition, so that they work on tensors."""

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        name = "and_" if isinstance(node.op, ast.And) else "or_"
        result = node.values[-1]
        for value in reversed(node.values[:-1]):
            thunk = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                                  kw_defaults=[], kwarg=None, defaults=[]), body=result)
            result = _call(name, value, thunk)
        return result

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _call("not_", node.operand)
        return node

    def visit_Lambda(self, node):
        return node  # its own code


def _condition(test):
    return _Conditions().visit(test)


class _Converter(ast.NodeTransformer):
    def __init__(self):
        self.counter = 0

    def _fresh(self, kind):
        self.counter += 1
        return f"{_PREFIX}_{kind}_{self.counter}"

    # Nested functions are their own code: not converted (only the decorated function is).
    def visit_FunctionDef(self, node):
        return node

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef

    def visit_If(self, node):
        self.generic_visit(node)
        if _unconvertible(node.body) or _unconvertible(node.orelse):
            return node
        names = _assigned(node.body + node.orelse)
        then_name, else_name = self._fresh("then"), self._fresh("else")
        then_fn = _function(then_name, names, node.body, names)
        else_fn = _function(else_name, names, node.orelse or [ast.Pass()], names)
        call = _call("if_stmt", _condition(node.test), ast.Name(id=then_name, ctx=ast.Load()),
                     ast.Name(id=else_name, ctx=ast.Load()), _strings(names), _strings(_assigned(node.body)),
                     _strings(_assigned(node.orelse)), _current_values(names), ast.Constant(node.lineno))
        return [then_fn, else_fn, _assign_results(names, call)]

    def visit_While(self, node):
        self.generic_visit(node)
        if node.orelse or _unconvertible(node.body):
            return node
        names = _assigned(node.body)
        test_name, body_name = self._fresh("test"), self._fresh("body")
        test_fn = ast.FunctionDef(
            name=test_name,
            args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in names], vararg=None, kwonlyargs=[],
                               kw_defaults=[], kwarg=None, defaults=[]),
            body=[ast.Return(value=_condition(node.test))], decorator_list=[], returns=None, type_comment=None)
        body_fn = _function(body_name, names, node.body, names)
        call = _call("while_stmt", ast.Name(id=test_name, ctx=ast.Load()), ast.Name(id=body_name, ctx=ast.Load()),
                     _strings(names), _current_values(names), ast.Constant(node.lineno))
        return [test_fn, body_fn, _assign_results(names, call)]

    def visit_For(self, node):
        self.generic_visit(node)
        if node.orelse or _unconvertible(node.body):
            return node
        names = _assigned([node.target] + node.body)
        item, body_name = f"{_PREFIX}_item", self._fresh("body")
        bind_target = ast.Assign(targets=[node.target], value=ast.Name(id=item, ctx=ast.Load()), type_comment=None)
        body_fn = _function(body_name, [item] + names, [bind_target] + node.body, names)
        call = _call("for_stmt", node.iter, ast.Name(id=body_name, ctx=ast.Load()), _strings(names),
                     _current_values(names), ast.Constant(node.lineno))
        return [body_fn, _assign_results(names, call)]


def convert(fn):
    """`fn` with its control flow rewritten; `fn` itself when its source cannot be read or it is
    not a plain `def` (a lambda, a builtin)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        filename = inspect.getsourcefile(fn) or "<onyx.function>"
        first_line = inspect.getsourcelines(fn)[1]
    except (OSError, TypeError):
        return fn
    try:
        module = ast.parse(source)
    except SyntaxError:
        return fn
    if len(module.body) != 1 or not isinstance(module.body[0], ast.FunctionDef) or module.body[0].name != fn.__name__:
        return fn
    definition = module.body[0]
    definition.decorator_list = []
    converter = _Converter()
    definition.body = [converter.visit(statement) for statement in definition.body]
    definition.body = [s for item in definition.body for s in (item if isinstance(item, list) else [item])]
    if converter.counter == 0:
        return fn  # nothing to convert: the original, with its exact behaviour

    free = list(fn.__code__.co_freevars)
    factory = ast.FunctionDef(
        name=f"{_PREFIX}_factory",
        args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=f"{_PREFIX}_ag")] + [ast.arg(arg=n) for n in free],
                           vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[definition, ast.Return(value=ast.Name(id=definition.name, ctx=ast.Load()))],
        decorator_list=[], returns=None, type_comment=None)
    tree = ast.Module(body=[factory], type_ignores=[])
    ast.fix_missing_locations(tree)
    ast.increment_lineno(tree, first_line - 1)
    code = compile(tree, filename, "exec")
    scope = {}
    exec(code, fn.__globals__, scope)  # noqa: S102 - the user's own function, rewritten
    cells = []
    for cell in fn.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # a closure variable not bound yet
            cells.append(control_flow.Undefined("a closure variable", "it was not bound when onyx.function converted the function"))
    converted = scope[f"{_PREFIX}_factory"](control_flow, *cells)
    converted.__defaults__ = fn.__defaults__
    converted.__kwdefaults__ = fn.__kwdefaults__
    converted.__doc__ = fn.__doc__
    converted.__wrapped__ = fn
    return converted
