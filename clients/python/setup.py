"""Builds the package with its gRPC stubs generated from the host API's protos (paddock.v1).

The protos come from the repository (ipc-proto/src/main/proto) when building from a checkout, and
are copied into the package (paddock/proto) so that they ship with it and an sdist builds alone.
"""
import importlib.util
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO_PROTOS = HERE.parent.parent / "ipc-proto" / "src" / "main" / "proto"
PACKAGE_PROTOS = HERE / "paddock" / "proto"


def generate_stubs() -> None:
    from grpc_tools import protoc  # a build requirement

    source = REPO_PROTOS / "paddock" / "v1"
    target = PACKAGE_PROTOS / "paddock" / "v1"
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for proto in source.glob("*.proto"):
            shutil.copy2(proto, target / proto.name)
    protos = sorted(str(p.relative_to(PACKAGE_PROTOS)) for p in target.glob("*.proto"))
    if not protos:
        raise SystemExit(f"no protos in {target} (and no repository at {REPO_PROTOS})")
    well_known = Path(importlib.util.find_spec("grpc_tools").submodule_search_locations[0]) / "_proto"
    # google/rpc/*.proto ship inside googleapis-common-protos, beside its modules.
    common = Path(importlib.util.find_spec("google.rpc").submodule_search_locations[0]).parent.parent
    args = ["protoc", f"-I{PACKAGE_PROTOS}", f"-I{well_known}", f"-I{common}",
            f"--python_out={HERE}", f"--pyi_out={HERE}", f"--grpc_python_out={HERE}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed: " + " ".join(args))
    (HERE / "paddock" / "v1" / "__init__.py").write_text('"""Generated messages and stubs of paddock.v1."""\n')


class BuildWithStubs(build_py):
    def run(self):
        generate_stubs()
        super().run()


if os.environ.get("PADDOCK_GENERATE_ONLY"):
    generate_stubs()
elif __name__ == "__main__":
    # Before setup(): its metadata step lists paddock.v1, which a clean checkout does not have yet.
    generate_stubs()
    setup(cmdclass={"build_py": BuildWithStubs})
