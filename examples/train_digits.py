"""Main demo placeholder: the digits CNN lands with the nn issue."""
import tinytorch as torch

x = torch.randn(4, 3, requires_grad=True)
(x * x).sum().backward()
print("tinytorch works; grad of sum(x*x) == 2x:", bool(((x.grad - 2 * x).abs() < 1e-6).all()))
