"""The tutorial's `Value`, provided when a snippet uses `Value` without defining or importing it.

Same attributes and semantics as the chapter's class (data, grad, _children, _local_grads; every op
stores its local derivatives), written for GradLens. One difference a learner will not notice:
backward() sorts the graph with an explicit stack, so deep graphs do not hit Python's recursion limit.
"""
import math


class Value:
    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    # d(a+b)/da = 1, d(a+b)/db = 1
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    # d(a*b)/da = b, d(a*b)/db = a
    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    # d(x**n)/dx = n * x**(n-1), n a plain number
    def __pow__(self, other):
        return Value(self.data**other, (self,), (other * self.data ** (other - 1),))

    # d(ln x)/dx = 1/x
    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    # d(e**x)/dx = e**x
    def exp(self):
        return Value(math.exp(self.data), (self,), (math.exp(self.data),))

    # d(max(0, x))/dx = 1 if x > 0 else 0
    def relu(self):
        return Value(max(0, self.data), (self,), (float(self.data > 0),))

    # Derived ops, as the chapter writes them.
    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def backward(self):
        # Children before parents, found depth-first with a stack instead of recursion.
        topo = []
        visited = set()
        stack = [(self, False)]
        while stack:
            v, children_done = stack.pop()
            if children_done:
                topo.append(v)
                continue
            if v in visited:
                continue
            visited.add(v)
            stack.append((v, True))
            for child in reversed(v._children):
                if child not in visited:
                    stack.append((child, False))
        self.grad = 1
        for v in reversed(topo):
            for child, local_grad in zip(v._children, v._local_grads):
                child.grad += local_grad * v.grad
