"""The `automa:host` bindings for the data profile, shaped like the component's.

The SDK (`automa`, the `requests` shim) imports `wit_world.imports.<interface>`; here each
function sends its call through the door (`automa_door`) instead of the component model,
so the SDK's code is the same in both profiles.
"""
