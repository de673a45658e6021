"""REINFORCE on a 1-D corridor: a policy network learns to walk right to the goal.

The environment is written here (no gym): positions 0..N-1, start at 0, actions 0 = left, 1 = right,
reward 1 on reaching the last position (the episode ends), discount GAMMA, at most HORIZON steps.
A batch of episodes runs in parallel; the policy is an MLP on the one-hot position, sampled through
torch.distributions.Categorical, trained with a mean baseline and an entropy bonus.

Printed "loss" is the policy's regret: the optimal discounted return minus the policy's expected
discounted return, computed exactly by dynamic programming over the corridor (no sampling noise).
"""
import argparse

import torch
import torch.nn as nn
from torch.distributions import Categorical

N = 10
GAMMA = 0.95
HORIZON = 30


class Corridor:
    """A batch of independent corridors; step() returns (next_state, reward, done)."""

    def __init__(self, batch):
        self.pos = torch.zeros(batch, dtype=torch.long)
        self.done = torch.zeros(batch, dtype=torch.bool)

    def observe(self):
        return torch.nn.functional.one_hot(self.pos, N).float()

    def step(self, action):
        move = action * 2 - 1
        new_pos = (self.pos + move).clamp(0, N - 1)
        self.pos = torch.where(self.done, self.pos, new_pos)
        reached = (self.pos == N - 1) & ~self.done
        reward = reached.float()
        self.done = self.done | reached
        return reward


class Policy(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(N, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, obs):
        return self.net(obs)


def expected_return(policy):
    """Exact expected discounted return from position 0 under the stochastic policy (finite horizon)."""
    with torch.no_grad():
        probs = torch.softmax(policy(torch.eye(N)), dim=-1).tolist()
    value = [0.0] * N
    for _ in range(HORIZON):
        new = [0.0] * N
        for s in range(N - 1):
            total = 0.0
            for a, p in enumerate(probs[s]):
                s2 = min(max(s + (1 if a == 1 else -1), 0), N - 1)
                total += p * (1.0 if s2 == N - 1 else GAMMA * value[s2])
            new[s] = total
        value = new
    return value[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.03)
    args = parser.parse_args()

    torch.manual_seed(0)
    policy = Policy()
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.lr)
    optimal = GAMMA ** (N - 2)  # N-1 steps right, the reward arrives on the last one
    initial = optimal - expected_return(policy)
    print(f"initial regret {initial:.4f}")

    for update in range(args.updates):
        env = Corridor(args.batch)
        log_probs, rewards, alive, entropies = [], [], [], []
        for t in range(HORIZON):
            if bool(env.done.all()):
                break
            m = Categorical(logits=policy(env.observe()))
            action = m.sample()
            alive.append((~env.done).float())
            log_probs.append(m.log_prob(action))
            entropies.append(m.entropy())
            rewards.append(env.step(action))
        # discounted returns-to-go, per episode
        returns = []
        running = torch.zeros(args.batch)
        for r in reversed(rewards):
            running = r + GAMMA * running
            returns.insert(0, running)
        returns = torch.stack(returns)
        mask = torch.stack(alive)
        advantage = returns - (returns * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp(min=1)
        loss = -(torch.stack(log_probs) * advantage * mask).sum() / args.batch
        loss = loss - 0.01 * (torch.stack(entropies) * mask).sum() / mask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if update % 20 == 0:
            print(f"update {update}: mean return {returns[0].mean().item():.3f}")

    final = optimal - expected_return(policy)
    print(f"final regret {final:.4f}, expected return {optimal - final:.4f} of {optimal:.4f}")
    print(f"initial_loss={initial:.6e}")
    print(f"final_loss={final:.6e}")


if __name__ == "__main__":
    main()
