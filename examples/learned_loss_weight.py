"""Learn the weight of an auxiliary loss by differentiating through Adam steps.

A model trains with ``fit + A * penalty``; the weight ``A`` gets the gradient of the
validation loss after two Adam steps of the model (second order, through Adam's moments).

    python examples/learned_loss_weight.py
"""

import torch
from torch import nn

from lola_games.functional import Adam, functional_call, params_of, unroll

torch.manual_seed(0)
dtype = torch.float64
model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).to(dtype)
x, x_val = torch.randn(32, 3, dtype=dtype), torch.randn(64, 3, dtype=dtype)
w_true = torch.tensor([[1.0], [-2.0], [0.5]], dtype=dtype)
y = x @ w_true + 0.5 * torch.randn(32, 1, dtype=dtype)
y_val = x_val @ w_true
start = params_of(model, requires_grad=False)


def validation_loss(weight: torch.Tensor, steps: int = 2) -> torch.Tensor:
    def train_loss(p: dict) -> torch.Tensor:
        out = functional_call(model, p, args=(x,))
        penalty = sum((v**2).sum() for k, v in p.items() if k.endswith("weight"))
        return ((out - y) ** 2).mean() + weight * penalty  # A weighs the auxiliary term

    new, _ = unroll(train_loss, start, steps, Adam(lr=0.05))
    return ((functional_call(model, new, args=(x_val,)) - y_val) ** 2).mean()


weight = torch.tensor(0.1, dtype=dtype, requires_grad=True)
(grad,) = torch.autograd.grad(validation_loss(weight), weight)
eps = 1e-6
with torch.no_grad():
    fd = (validation_loss(weight + eps) - validation_loss(weight - eps)) / (2 * eps)
print(f"d(validation loss)/dA at A=0.1: autograd {grad.item():.12f}, finite diff {fd.item():.12f}")

# a few steps of gradient descent on log A (keeps A positive)
log_weight = torch.log(weight.detach()).requires_grad_()
for it in range(21):
    loss = validation_loss(log_weight.exp(), steps=5)
    (g,) = torch.autograd.grad(loss, log_weight)
    with torch.no_grad():
        log_weight -= 1.0 * g
    if it % 10 == 0:
        print(f"step {it:2d}: A = {log_weight.exp().item():.4f}, validation loss {loss.item():.4f}")
