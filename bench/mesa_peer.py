"""Peer for `crowdlab bench simulate`: crowdlab's crowd model written with Mesa (the agent-based
framework scientists reach for), in memory, one core. Same work per click: detection by a
psychometric curve read as a latent salience, a click budget per image spent on the most salient
objects noticed, false positives falling with experience, Gaussian pointing error, click periods
from Fitts' law. Prints clicks per second last.

usage: python3 mesa_peer.py IMAGES OBJECTS REPLICATES SEED"""
import math, sys, time
import mesa

IMAGES, OBJECTS, REPLICATES, SEED = (int(a) for a in sys.argv[1:5])


class Worker(mesa.Agent):
    def __init__(self, model):
        super().__init__(model)
        r = model.random
        self.activity = r.paretovariate(1.16)
        self.plateau = min(0.99, max(0.01, r.betavariate(2.4, 0.9)))
        self.rmse = 2.8 * math.exp(0.35 * r.gauss(0, 1))
        self.period = max(0.15, (0.2 + 0.56 * math.log2((25 + self.rmse) / self.rmse)) * math.exp(0.35 * r.gauss(0, 1)))
        self.patience = math.exp(0.8 * r.gauss(0, 1))
        self.index = 0
        self.clicks = []

    def annotate(self, image):
        r = self.model.random
        sigma = self.rmse / math.sqrt(2)
        seen = []
        for o in image:
            attends = r.random() < self.plateau
            u = r.random()
            if attends and u > 1 - 1 / (1 + math.exp(-(o[2] - 5.0) / 1.6)):
                seen.append((o, o[2] + 1.6 * math.log(u / max(1 - u, 1e-300))))
        spend = int(60 * self.patience + r.random())
        if spend < len(seen):
            keep = set(sorted(range(len(seen)), key=lambda k: -seen[k][1])[:spend])
            seen = [seen[k] for k in range(len(seen)) if k in keep]
        seen = [o for o, _ in seen]
        t = 3000.0
        k = 0
        while k < len(seen):
            fp = 0.037 + (0.013 - 0.037) * min(self.index, 50) / 50
            if r.random() < fp:
                x, y = r.random() * 299, r.random() * 300
            else:
                x, y = seen[k][0] + r.gauss(0, sigma), seen[k][1] + r.gauss(0, sigma)
                k += 1
            t += self.period * 1000 * math.exp(0.4 * r.gauss(0, 1))
            self.clicks.append((round(x), round(y), round(t)))
            self.index += 1


class Crowd(mesa.Model):
    def __init__(self, seed):
        super().__init__(seed=seed)
        r = self.random
        self.images = [[(r.randrange(4, 296), r.randrange(4, 296), 5 + 15 * r.random()) for _ in range(OBJECTS)] for _ in range(IMAGES)]
        Worker.create_agents(self, max(REPLICATES * 3, IMAGES * REPLICATES // 15 * 4))
        self.remaining = [REPLICATES] * IMAGES
        self.done = {}

    def step(self):
        # One arrival: a worker drawn by activity takes the next images it has not done.
        workers = list(self.agents)
        w = self.random.choices(workers, weights=[a.activity for a in workers])[0]
        taken = 0
        for i in range(IMAGES):
            if taken >= 15:
                break
            if self.remaining[i] > 0 and (w.unique_id, i) not in self.done:
                self.done[(w.unique_id, i)] = True
                self.remaining[i] -= 1
                w.annotate(self.images[i])
                taken += 1


model = Crowd(SEED)
start = time.perf_counter()
while any(model.remaining):
    model.step()
elapsed = time.perf_counter() - start
clicks = sum(len(a.clicks) for a in model.agents)
print(f"{clicks} clicks in {elapsed:.3f} s", file=sys.stderr)
print(f"{clicks / elapsed:.0f}")
