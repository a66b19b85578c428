#!/usr/bin/env python3
"""Fit a multinomial logistic regression on iris.csv with the standard
library only, and write model.json and metrics.json.

usage: train.py [--data iris.csv] [--out DIR] [--epochs N] [--seed S]

The split is a fixed, stratified 80/20 (every fifth row of each class is
held out), so the same data always gives the same model. Features are
standardised with the training split's mean and deviation, which the model
keeps so that serve.py can apply them.
"""
import argparse
import csv
import json
import math
import os
import random
import sys
import time


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    # sklearn's layout: "150,4,setosa,versicolor,virginica", then rows.
    header = rows[0]
    names = header[2:]
    x, y = [], []
    for r in rows[1:]:
        if not r:
            continue
        x.append([float(v) for v in r[:4]])
        y.append(int(r[4]))
    return x, y, names


def split(x, y):
    seen = {}
    tr, te = [], []
    for xi, yi in zip(x, y):
        k = seen.get(yi, 0)
        seen[yi] = k + 1
        (te if k % 5 == 4 else tr).append((xi, yi))
    return tr, te


def softmax(z):
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    return [v / s for v in e]


def predict(model, xi):
    xs = [(v - m) / s for v, m, s in zip(xi, model["mean"], model["std"])]
    z = [b + sum(w * v for w, v in zip(ws, xs))
         for ws, b in zip(model["weights"], model["bias"])]
    return softmax(z)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(here, "iris.csv"))
    ap.add_argument("--out", default=os.path.join(here, "model"))
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()

    t0 = time.time()
    x, y, names = load(a.data)
    tr, te = split(x, y)
    k, d = len(names), 4
    mean = [sum(r[0][j] for r in tr) / len(tr) for j in range(d)]
    std = [math.sqrt(sum((r[0][j] - mean[j]) ** 2 for r in tr) / len(tr))
           or 1.0 for j in range(d)]
    rng = random.Random(a.seed)
    w = [[rng.uniform(-0.01, 0.01) for _ in range(d)] for _ in range(k)]
    b = [0.0] * k
    model = {"mean": mean, "std": std, "weights": w, "bias": b}
    order = list(range(len(tr)))
    for _ in range(a.epochs):
        rng.shuffle(order)
        for i in order:
            xi, yi = tr[i]
            p = predict(model, xi)
            xs = [(v - m) / s for v, m, s in zip(xi, mean, std)]
            for c in range(k):
                g = p[c] - (1.0 if c == yi else 0.0)
                b[c] -= a.lr * g
                for j in range(d):
                    w[c][j] -= a.lr * (g * xs[j] + 1e-4 * w[c][j])

    def accuracy(rows):
        ok = 0
        for xi, yi in rows:
            p = predict(model, xi)
            ok += p.index(max(p)) == yi
        return ok / len(rows)

    metrics = {"accuracy": round(accuracy(te), 4),
               "train_accuracy": round(accuracy(tr), 4),
               "test_rows": len(te), "train_rows": len(tr),
               "seconds": round(time.time() - t0, 3)}
    model.update({"format": "lepton-iris-logreg/1", "classes": names,
                  "features": ["sepal_length", "sepal_width",
                               "petal_length", "petal_width"]})
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "model.json"), "w") as f:
        json.dump(model, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, sort_keys=True)
        f.write("\n")
    print(json.dumps(metrics, sort_keys=True))
    if metrics["accuracy"] < 0.9:
        print("accuracy below 0.9", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
