"""Reading an attribute of the user's value the way the user's code would, except that a class's own
`__getattr__` that raises something other than AttributeError does not hide attributes that exist."""


def peek(obj, name, problems=None):
    """obj.name, or AttributeError. When the class's `__getattr__` (or a property) raises another error
    (a KeyError, a RuntimeError), the attribute is read directly; when that fails too, the error is
    noted in `problems` (class -> text) and AttributeError raised."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise
    except Exception as error:  # noqa: BLE001 — the user's __getattr__ may raise anything
        try:
            return object.__getattribute__(obj, name)
        except AttributeError:
            raise AttributeError(name) from None
        except Exception:  # noqa: BLE001
            if problems is not None:
                problems.setdefault(type(obj), "%s: %s" % (type(error).__name__, error))
            raise AttributeError(name) from None


def has(obj, name, problems=None):
    try:
        peek(obj, name, problems)
        return True
    except Exception:  # noqa: BLE001
        return False


def read(obj, name, default=None):
    try:
        return peek(obj, name)
    except Exception:  # noqa: BLE001
        return default
