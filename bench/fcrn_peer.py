"""Peer for `crowdlab bench detect`: the same FCRN (3x3 convs 2->32->32->1, ReLU, padding 1) in
PyTorch on the CPU, SGD with momentum 0.9 and weight decay 0.001, L2 loss. Needs `pip install torch`
(the CPU build). Usage: fcrn_peer.py THREADS STEPS FRAMES. Prints training steps/s (batches of 8
crops of 100x100) and inference pixels/s (500x500 frames), one per line."""
import sys, time
import torch

threads, steps, frames = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
net = torch.nn.Sequential(torch.nn.Conv2d(2, 32, 3, padding=1), torch.nn.ReLU(),
                          torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(),
                          torch.nn.Conv2d(32, 1, 3, padding=1))
opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, weight_decay=0.001)
x, t = torch.randn(8, 2, 100, 100), torch.randn(8, 1, 100, 100)
for _ in range(2):  # warm up
    opt.zero_grad(); (0.5 * ((net(x) - t) ** 2).mean()).backward(); opt.step()
start = time.perf_counter()
for _ in range(steps):
    opt.zero_grad(); (0.5 * ((net(x) - t) ** 2).mean()).backward(); opt.step()
train = time.perf_counter() - start
image = torch.randn(1, 2, 500, 500)
with torch.no_grad():
    net(image)
    start = time.perf_counter()
    for _ in range(frames):
        net(image)
    infer = time.perf_counter() - start
print(f"{steps / train:.4f}")
print(f"{frames * 500 * 500 / infer:.1f}")
