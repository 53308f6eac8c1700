"""A tiny name -> factory registry with "did you mean" suggestions (the timm pattern)."""

from __future__ import annotations

import difflib
import fnmatch
from typing import Callable, Generic, Iterable, Iterator, TypeVar

from bibench_deploy.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def decorator(self, name: str) -> Callable[[T], T]:
        return lambda item: self.register(name, item)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._items, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown {self.kind} {name!r}: {hint}choose one of {', '.join(self.names())}"

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._items if fnmatch.fnmatchcase(n, pattern))

    def registered(self) -> list[T]:
        """Every item, in the order registered (`names` sorts)."""
        return list(self._items.values())

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def import_plugins(package: str, path: Iterable[str], skip: Iterable[str]) -> None:
    """Import every module of `package` (except `skip` and private ones): each registers itself."""
    import importlib
    import pkgutil
    skipped = set(skip)
    for info in pkgutil.iter_modules(path):
        if info.name not in skipped and not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
