"""Federated learning with a learned regulariser, differentiated through the clients' steps.

K clients each take one SGD step on their own data plus a regulariser that pulls their
predictions on shared inputs towards those of a second model R. The server averages the
clients' parameters; R is trained on the loss of that average on held-out data, with the
gradient taken through every client's step (second order, all clients batched at once).

    python examples/federated_hyperregulariser.py
"""

import torch
from torch import nn

from lola_games.functional import SGD, Adam, detach, functional_call, params_of, unroll

torch.manual_seed(0)
dtype, n_clients, n_data = torch.float64, 8, 16


def mlp(n_hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(3, n_hidden), nn.Tanh(), nn.Linear(n_hidden, 1)).to(dtype)


client, regulariser = mlp(8), mlp(4)
truth = mlp(6)  # the function all clients try to learn from a few noisy points each
start = {  # every client starts from the same global model: params [K, ...]
    k: v.expand(n_clients, *v.shape) for k, v in params_of(client, requires_grad=False).items()
}
with torch.no_grad():
    x = torch.randn(n_clients, n_data, 3, dtype=dtype)
    y = truth(x) + 0.3 * torch.randn(n_clients, n_data, 1, dtype=dtype)
    shared = torch.randn(32, 3, dtype=dtype)  # unlabelled inputs every client can see
    x_val = torch.randn(256, 3, dtype=dtype)
    y_val = truth(x_val)


def clients_forward(p: dict, inputs: torch.Tensor) -> torch.Tensor:
    """All clients at once: params [K, ...], inputs [K, N, 3] -> [K, N, 1]."""
    return torch.func.vmap(lambda q, xi: functional_call(client, q, args=(xi,)))(p, inputs)


def global_val_loss(reg_params: dict) -> torch.Tensor:
    soft_targets = functional_call(regulariser, reg_params, args=(shared,))

    def client_losses(p: dict) -> torch.Tensor:  # [K]: each client's own loss
        fit = ((clients_forward(p, x) - y) ** 2).mean((1, 2))
        on_shared = clients_forward(p, shared.expand(n_clients, -1, -1))
        return fit + ((on_shared - soft_targets) ** 2).mean((1, 2))

    new, _ = unroll(client_losses, start, steps=1, optimizer=SGD(lr=0.5))
    average = {k: v.mean(0) for k, v in new.items()}
    return ((functional_call(client, average, args=(x_val,)) - y_val) ** 2).mean()


# 1) the hyper-gradient against central finite differences
reg = params_of(regulariser)
grads = torch.autograd.grad(global_val_loss(reg), list(reg.values()))
print(f"{'parameter':<16}{'autograd':>16}{'finite diff':>16}")
eps = 1e-6
for (name, value), grad in zip(reg.items(), grads, strict=True):
    idx = (0,) * value.ndim
    bump = torch.zeros_like(value)
    bump[idx] = eps
    with torch.no_grad():
        plus = global_val_loss({**reg, name: value + bump})
        minus = global_val_loss({**reg, name: value - bump})
    fd = (plus - minus) / (2 * eps)
    print(f"{name + str(list(idx)):<16}{grad[idx].item():>16.10f}{fd.item():>16.10f}")

# 2) learn the regulariser with that gradient
optimizer = Adam(lr=0.02)
state = optimizer.init(reg)
for it in range(61):
    loss = global_val_loss(reg)
    grad = dict(zip(reg, torch.autograd.grad(loss, list(reg.values())), strict=True))
    reg, state = optimizer.step(reg, grad, state)
    reg = detach(reg, requires_grad=True)  # commit: keep no graph across outer steps
    if it % 20 == 0:
        print(f"outer step {it:3d}: global validation loss {loss.item():.4f}")
