"""Full backward hooks: identity nodes around a module call that see grad_output and grad_input."""
from __future__ import annotations

from ...autograd.function import Function
from ...tensor import Tensor


class _InputsHook(Function):
    # identity on the module's tensor inputs; its backward receives the gradients w.r.t. them
    @staticmethod
    def forward(ctx, state, *xs):
        ctx.state = state
        return tuple(x._data for x in xs)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.state.run_hooks(grads))


class _OutputsHook(Function):
    # identity on the module's tensor outputs; its backward records grad_output
    @staticmethod
    def forward(ctx, state, *ys):
        ctx.state = state
        return tuple(y._data for y in ys)

    @staticmethod
    def backward(ctx, *grads):
        ctx.state.grad_output = tuple(grads)
        if not ctx.state.n_inputs:  # no input needs a gradient: call the hooks here, like torch
            ctx.state.run_hooks((None,))
        return (None,) + tuple(grads)


class BackwardHookState:
    """One module call's bookkeeping between its output node and its input node."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0

    def wrap_inputs(self, args):
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs = len(pos)
        if not pos:
            return args
        new = _InputsHook.apply(self, *[args[i] for i in pos])
        args = list(args)
        for i, t in zip(pos, new):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, result):
        if isinstance(result, Tensor):
            if not result.requires_grad:
                return result
            return _OutputsHook.apply(self, result)[0]
        if isinstance(result, tuple):
            pos = [i for i, r in enumerate(result) if isinstance(r, Tensor) and r.requires_grad]
            if not pos:
                return result
            new = _OutputsHook.apply(self, *[result[i] for i in pos])
            out = list(result)
            for i, t in zip(pos, new):
                out[i] = t
            return type(result)(out) if type(result) is tuple else type(result)(*out)
        return result

    def run_hooks(self, grad_input):
        grad_input = tuple(grad_input)
        for hook in list(self.module._backward_hooks.values()):
            res = hook(self.module, grad_input, self.grad_output)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook returned {len(res)} gradients, expected {len(grad_input)}"
                    )
                grad_input = res
        return grad_input
