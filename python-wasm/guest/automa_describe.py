"""Reads a script's `main` signature into a JSON Schema, without running the script."""

import ast

# `ast.unparse` imports its implementation on first use; do it at build time, while
# modules can still be loaded into the snapshot.
ast.unparse(ast.parse("x: int"))

_SIMPLE_TYPES = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "list": {"type": "array"},
    "tuple": {"type": "array"},
    "set": {"type": "array"},
    "dict": {"type": "object"},
    "Any": {},
    "object": {},
}


def _annotation_schema(node):
    """A JSON Schema for a type hint; `{}` (anything) for hints it does not know."""
    if node is None:
        return {}
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _annotation_schema(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return {}
    if isinstance(node, ast.Name):
        return dict(_SIMPLE_TYPES.get(node.id, {}))
    if isinstance(node, ast.Attribute):
        return dict(_SIMPLE_TYPES.get(node.attr, {}))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_annotation_schema(node.left), _annotation_schema(node.right)])
    if isinstance(node, ast.Subscript):
        outer = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        inner = node.slice
        args = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if outer == "Optional":
            return _union([_annotation_schema(args[0]), {"type": "null"}])
        if outer == "Union":
            return _union([_annotation_schema(a) for a in args])
        if outer == "Literal":
            values = [a.value for a in args if isinstance(a, ast.Constant)]
            return {"enum": values}
        if outer in ("list", "List", "set", "Set", "Sequence", "tuple", "Tuple"):
            schema = {"type": "array"}
            if outer not in ("tuple", "Tuple") and args:
                item = _annotation_schema(args[0])
                if item:
                    schema["items"] = item
            return schema
        if outer in ("dict", "Dict", "Mapping"):
            return {"type": "object"}
        return dict(_SIMPLE_TYPES.get(outer, {}))
    return {}


def _union(schemas):
    if any(not s for s in schemas):
        return {}
    types = []
    for schema in schemas:
        kind = schema.get("type")
        if kind is None:
            return {}
        for t in kind if isinstance(kind, list) else [kind]:
            if t not in types:
                types.append(t)
    return {"type": types[0] if len(types) == 1 else types}


def _default(node):
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def describe(source, filename):
    tree = ast.parse(source, filename=filename)
    module_doc = ast.get_docstring(tree)
    main = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main":
            main = node
    parameters = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
    if main is None:
        return {"has_main": False, "description": module_doc, "parameters": parameters}

    args = main.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
    for arg, default in pairs:
        schema = _annotation_schema(arg.annotation)
        if arg.annotation is not None:
            schema["x-python-type"] = ast.unparse(arg.annotation)
        if default is None:
            parameters["required"].append(arg.arg)
        else:
            known, value = _default(default)
            if known:
                schema["default"] = value
        parameters["properties"][arg.arg] = schema
    if args.kwarg is not None:
        parameters["additionalProperties"] = True
    return {
        "has_main": True,
        "description": ast.get_docstring(main) or module_doc,
        "parameters": parameters,
    }
