"""The data profile's runner: the interpreter's program, one script per fresh instance.

The host starts the interpreter with this module as its program. It asks the host for
the script (`runner.start`), runs it as the component's runner does (`automa_exec`), and
hands back the JSON text of the result or the failure (`runner.finish`).
"""

import sys

import automa_door
import automa_exec


def main():
    job = automa_door.call("runner.start")
    try:
        result = {"result_json": automa_exec.run_script(job["source"], job["filename"], job["args_json"])}
    except automa_exec.ScriptFailure as failure:
        result = {"error": {"kind": failure.kind, "message": failure.message, "traceback": failure.traceback}}
    except MemoryError:
        result = {"error": {"kind": "MemoryError", "message": "the script ran out of memory", "traceback": ""}}
    finally:
        automa_exec.flush()
    automa_door.call("runner.finish", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
