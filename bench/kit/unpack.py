#!/usr/bin/env python3
"""Unpacks the GPU run kit (see run.sh) into a work folder, with nothing but Python's standard library.

    python3 unpack.py KIT_DIR WORK_DIR

KIT_DIR holds what `npm run gpu-kit` wrote: node.xz (the Node.js binary), dawn.node.xz (Dawn's
bindings), webgpu/ (the `webgpu` package's index.js and package.json), kit.mjs (the benchmark, one
bundled file) and baseline-worker.mjs (its baseline pool's thread), and libvulkan1_*.deb (the Vulkan loader). WORK_DIR receives:

    node                                       the Node.js binary, executable
    kit.mjs, baseline-worker.mjs
    node_modules/webgpu/index.js, package.json
    node_modules/webgpu/dist/linux-x64/dawn.node
    vulkan/usr/lib/x86_64-linux-gnu/libvulkan.so.1 ...   the .deb's files

It is safe to run again: a file whose source has not changed since it was last unpacked is left as it
is (the sizes and times of the sources are kept in WORK_DIR/.unpacked.json).
"""
import glob
import io
import json
import lzma
import os
import shutil
import sys
import tarfile


def deb_members(path):
    """The members of a .deb (an `ar` archive): name -> bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit(f"unpack: {path} is not a .deb (no ar header)")
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
    return members


def extract_deb(path, dest):
    members = deb_members(path)
    name = next((n for n in members if n.startswith("data.tar")), None)
    if name is None:
        raise SystemExit(f"unpack: {path} has no data.tar member ({', '.join(members)})")
    blob = members[name]
    if name.endswith(".xz"):
        blob = lzma.decompress(blob)
    elif name.endswith(".zst"):
        raise SystemExit(f"unpack: {path} is zstd-compressed, which Python's standard library cannot read")
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest)


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: python3 unpack.py KIT_DIR WORK_DIR")
    kit, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    stamp_path = os.path.join(work, ".unpacked.json")
    try:
        with open(stamp_path) as f:
            stamps = json.load(f)
    except (OSError, ValueError):
        stamps = {}

    debs = sorted(glob.glob(os.path.join(kit, "libvulkan1_*.deb")))
    if not debs:
        raise SystemExit(f"unpack: no libvulkan1_*.deb in {kit}")
    webgpu = os.path.join(work, "node_modules", "webgpu")
    steps = [
        ("node.xz", os.path.join(work, "node"), "xz"),
        ("dawn.node.xz", os.path.join(webgpu, "dist", "linux-x64", "dawn.node"), "xz"),
        ("webgpu/index.js", os.path.join(webgpu, "index.js"), "copy"),
        ("webgpu/package.json", os.path.join(webgpu, "package.json"), "copy"),
        ("kit.mjs", os.path.join(work, "kit.mjs"), "copy"),
        ("baseline-worker.mjs", os.path.join(work, "baseline-worker.mjs"), "copy"),
        (os.path.relpath(debs[-1], kit), os.path.join(work, "vulkan"), "deb"),
    ]
    for source, target, how in steps:
        src = os.path.join(kit, source)
        st = os.stat(src)
        stamp = [st.st_size, int(st.st_mtime)]
        if stamps.get(source) == stamp and os.path.exists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if how == "xz":
            with lzma.open(src) as fin, open(target + ".part", "wb") as fout:
                shutil.copyfileobj(fin, fout, 1 << 20)
            os.replace(target + ".part", target)
        elif how == "copy":
            shutil.copyfile(src, target)
        else:
            shutil.rmtree(target, ignore_errors=True)
            extract_deb(src, target)
        stamps[source] = stamp
        print(f"unpack: {source} -> {os.path.relpath(target, work)}", file=sys.stderr)
    os.chmod(os.path.join(work, "node"), 0o755)
    with open(stamp_path, "w") as f:
        json.dump(stamps, f)


if __name__ == "__main__":
    main()
