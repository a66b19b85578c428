#!/usr/bin/env python3
"""A small PyTorch MLP trained on the GPU lepton gave this job (random
data, 300 steps), saved to $LEPTON_OUTPUT_MODEL with its metrics."""
import json
import os
import sys
import time

import torch

out = os.environ["LEPTON_OUTPUT_MODEL"]
seen = os.environ.get("CUDA_VISIBLE_DEVICES")
print("CUDA_VISIBLE_DEVICES=%s" % seen, flush=True)
if not torch.cuda.is_available():
    print("no CUDA device visible", file=sys.stderr)
    sys.exit(3)
dev = torch.device("cuda")
print("device: %s (%d visible)" % (torch.cuda.get_device_name(0),
                                   torch.cuda.device_count()), flush=True)
t0 = time.time()
torch.manual_seed(0)
x = torch.randn(4096, 64, device=dev)
w = torch.randn(64, 1, device=dev)
y = (x @ w > 0).float()
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                            torch.nn.Linear(128, 1)).to(dev)
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
loss_fn = torch.nn.BCEWithLogitsLoss()
for step in range(300):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
torch.cuda.synchronize()
acc = ((model(x) > 0).float() == y).float().mean().item()
os.makedirs(out, exist_ok=True)
torch.save(model.state_dict(), os.path.join(out, "model.pt"))
metrics = {"accuracy": round(acc, 4), "loss": round(loss.item(), 4),
           "device": torch.cuda.get_device_name(0),
           "cuda_visible_devices": seen,
           "seconds": round(time.time() - t0, 3)}
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump(metrics, f)
print(json.dumps(metrics), flush=True)
