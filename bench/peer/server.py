"""
The PyTorch peer of `npm run bench:peer` (bench/peer.ts): loads the project's generator and a
classifier from weights/ (model.py), then answers one JSON request per stdin line with one JSON
line on stdout, so the bench can interleave it with the project's own code in one run.

  python3 bench/peer/server.py WEIGHTS_DIR CLASSIFIER THREADS

Requests (float32 arrays travel as base64 of little-endian bytes):
  {"cmd": "info"}                                   -> versions, threads, BLAS, style size
  {"cmd": "check", "z", "labels", "s", "noise", "reference"}
      -> s of (z, labels); images, probs, gradient of s; with "reference": true also the gradient
         in float64 and, per sample, how far it jumps when s moves by float32 rounding (KINK_PROBE)
  {"cmd": "setup", "key", "s", "labels"}            -> stores styles for the timed calls
  {"cmd": "grad", "key", "rounds"}                  -> seconds for `rounds` gradients (fresh noise each)
  {"cmd": "forward", "key", "rounds"}               -> seconds for `rounds` forward passes (images + probs)
"""
import base64
import json
import os
import sys
import time

import numpy as np
import torch

from model import Generator, SimpleCnn, as_float64, p_true_gradient


# Relative size of the moves of s that probe for kinks: a few float32 ulps, the size of the
# rounding differences two float32 implementations accumulate inside the network.
KINK_PROBE = 1e-6
KINK_TRIALS = 24


def kink_jumps(gen64, cnn64, s, labels, noise, grad):
    """
    Per sample, the largest change of the float64 gradient over KINK_TRIALS random relative moves
    of s of size KINK_PROBE. Near zero where the gradient is smooth; large where an activation's input
    (ReLU, leaky ReLU, the output clip) sits at its kink within float32 rounding, so that two correct
    float32 implementations may take different sides of it.
    """
    g = torch.Generator().manual_seed(0)
    jumps = torch.zeros(s.shape[0], dtype=torch.float64)
    for _ in range(KINK_TRIALS):
        moved = s * (1 + KINK_PROBE * torch.randn(s.shape, generator=g, dtype=torch.float64))
        _, gm = p_true_gradient(gen64, cnn64, moved, labels, noise)
        jumps = torch.maximum(jumps, (gm - grad).abs().max(dim=1).values)
    return jumps


def loaded_blas():
    """The BLAS libraries this process actually mapped (the library path decides which)."""
    with open("/proc/self/maps") as f:
        return sorted({l.split()[-1] for l in f if "blas" in l.split()[-1]})


def decode(b64, shape):
    return torch.from_numpy(np.frombuffer(base64.b64decode(b64), dtype="<f4").copy()).reshape(shape)


def encode(t):
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode("ascii")


def main():
    weights, classifier, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.set_grad_enabled(True)
    gen = Generator(os.path.join(weights, "generator"))
    cnn = SimpleCnn(os.path.join(weights, classifier))
    stored = {}

    def noise_for(n):
        return [torch.randn(n, 1, r, r) for r in gen.conv_resolutions]

    def handle(req):
        cmd = req["cmd"]
        if cmd == "info":
            cfg = torch.__config__.show()
            blas = next((p.split("BLAS_INFO=", 1)[1] for p in cfg.replace("\n", ",").split(",") if "BLAS_INFO=" in p), "unknown")
            return {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
                    "mkldnn": torch.backends.mkldnn.is_available(), "styleSize": gen.style_size,
                    "malloc": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
                    "ldLibraryPath": os.environ.get("LD_LIBRARY_PATH", ""), "blasLoaded": loaded_blas()}
        if cmd == "check":
            n = len(req["labels"])
            labels = torch.tensor(req["labels"])
            with torch.no_grad():
                s_of_z = gen.styles(gen.mapping(decode(req["z"], (n, -1)), labels))
            s = decode(req["s"], (n, gen.style_size))
            noise = [decode(b, (n, 1, r, r)) for b, r in zip(req["noise"], gen.conv_resolutions)]
            with torch.no_grad():
                images = gen.synthesis(s, noise)
            probs, grad = p_true_gradient(gen, cnn, s, labels, noise)
            out = {"s": encode(s_of_z), "images": encode(images), "probs": encode(probs), "grad": encode(grad)}
            if req.get("reference"):
                gen64 = as_float64(Generator(os.path.join(weights, "generator")))
                cnn64 = as_float64(SimpleCnn(os.path.join(weights, classifier)))
                s64, noise64 = s.double(), [x.double() for x in noise]
                _, grad64 = p_true_gradient(gen64, cnn64, s64, labels, noise64)
                out["grad64"] = encode(grad64.float())
                out["kinkJumps"] = encode(kink_jumps(gen64, cnn64, s64, labels, noise64, grad64).float())
            return out
        if cmd == "setup":
            n = len(req["labels"])
            stored[req["key"]] = (decode(req["s"], (n, gen.style_size)), torch.tensor(req["labels"]))
            return {"ok": True}
        if cmd == "grad":
            s, labels = stored[req["key"]]
            t0 = time.perf_counter()
            for _ in range(req["rounds"]):
                probs, grad = p_true_gradient(gen, cnn, s, labels, noise_for(s.shape[0]))
                grad.numpy()  # on the host, as the project reads its gradient back
            return {"seconds": time.perf_counter() - t0}
        if cmd == "forward":
            s, labels = stored[req["key"]]
            t0 = time.perf_counter()
            with torch.no_grad():
                for _ in range(req["rounds"]):
                    images = gen.synthesis(s, noise_for(s.shape[0]))
                    probs = torch.softmax(cnn.logits(images), dim=1)
                    probs.numpy(), images.numpy()
            return {"seconds": time.perf_counter() - t0}
        raise ValueError(f"unknown request {cmd!r}")

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            out = handle(json.loads(line))
        except Exception as e:  # the bench reports it; the server keeps serving
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
