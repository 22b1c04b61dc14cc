"""Settings.

Two kinds, told apart by key:

* **branch settings** live in the snapshot (``settings.json`` in the tree),
  so they are versioned and follow the branch: ``budget``, ``warn``...
  Setting one makes a ``config`` commit.
* **store settings** live in the bare repository's git config under
  ``[tract]`` (machine-local, not versioned): ``encoding``, ``model``,
  ``<operation>.model``...  Secrets are refused: API keys come from
  arguments or the environment and are never written into a store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError, NothingToDoError
from .repo import Change, CommitResult, Repo
from .status import parse_warn


def _positive_int(v):
    try:
        n = int(str(v).replace("_", ""))
    except ValueError:
        raise ConfigError(f"'{v}' is not a whole number") from None
    if n <= 0:
        raise ConfigError(f"'{v}' must be greater than 0")
    return n


def _warn(v):
    try:
        w = parse_warn(v)
    except ValueError:
        raise ConfigError(f"'{v}' is not a list of percentages such as 80,100") from None
    if not all(0 < p <= 1000 for p in w):
        raise ConfigError(f"'{v}': percentages must be between 0 and 1000")
    return list(w)


#: branch-scoped keys -> validator; later operations add theirs
BRANCH_KEYS: dict = {
    "budget": _positive_int,
    "warn": _warn,
}


def _compile_strategy(v):
    if str(v) not in ("full", "window", "compress"):
        raise ConfigError(f"unknown compile strategy '{v}' (expected one of: full, window, compress)")
    return str(v)


def _non_negative_int(v):
    try:
        n = int(str(v).replace("_", ""))
    except ValueError:
        raise ConfigError(f"'{v}' is not a whole number") from None
    if n < 0:
        raise ConfigError(f"'{v}' must not be negative")
    return n


# compression and budgets (ops/budget.py, ops/compress.py)
BRANCH_KEYS["compile.strategy"] = _compile_strategy
BRANCH_KEYS["compress.keepLast"] = _non_negative_int

_SECRET_RE = re.compile(r"(api[_-]?key|secret|password|passwd|credential|auth[_-]?token|bearer)", re.I)
#: values shaped like well-known API keys and tokens (as the sample
#: pre-commit hook checks content)
_SECRET_VALUE_RE = re.compile(
    r"sk-(ant-|proj-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")
_KEY_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z0-9][a-zA-Z0-9_.-]*)?$")


def _number(kind, positive: bool = False):
    def check(v):
        try:
            n = kind(str(v).replace("_", "")) if kind is int else kind(v)
        except ValueError:
            raise ConfigError(f"'{v}' is not {'a whole number' if kind is int else 'a number'}") from None
        if n != n or n in (float("inf"), float("-inf")):
            raise ConfigError(f"'{v}' is not a number")
        if n < 0:
            raise ConfigError(f"'{v}' must not be negative")
        if positive and not n > 0:  # a timeout of 0 would fail every call
            raise ConfigError(f"'{v}' must be greater than 0")
        return str(v)
    return check


def _text(v):
    if not str(v).strip():
        raise ConfigError("empty value")
    return str(v)


def _one_of(*choices):
    def check(v):
        if str(v).strip().lower() not in choices:
            raise ConfigError(f"'{v}' is not one of: {', '.join(choices)}")
        return str(v).strip().lower()
    return check


def _positive_int_text(v):
    return str(_positive_int(v))


#: store keys (git config ``[tract]``) -> validator of the value as given;
#: the model settings (``model``, ``temperature``... and each operation's
#: ``<operation>.<setting>``) are added from ``llm.config`` on first use
STORE_KEYS: dict = {
    "encoding": _text,  # checked against the available encodings in set_value
    "agents.history": _one_of("link", "detach"),
    "gc.keepDays": _number(float),
    "compress.chunkTokens": _positive_int_text,
}
_CAMEL = {"baseurl": "baseUrl", "topp": "topP", "maxtokens": "maxTokens",
          "presencepenalty": "presencePenalty", "frequencypenalty": "frequencyPenalty",
          "reasoningeffort": "reasoningEffort"}
_known: dict | None = None


def known_keys() -> dict:
    """Every valid key, lowercased -> (its spelling, scope, validator)."""
    global _known
    if _known is None:
        # the model settings' registry: import-free (no litellm), read only
        from ..llm import config as _llm

        model_keys = {"model": _text, "baseUrl": _text}
        for name, (_param, parser) in list(_llm.SAMPLING.items()) + list(_llm.CONTROL.items()):
            check = _number(parser, positive=name in _llm.POSITIVE) if parser in (int, float) else _text
            model_keys[_CAMEL.get(name, name)] = check
        store = dict(STORE_KEYS)
        for op in ("",) + tuple(_llm.OPERATIONS):
            for k, check in model_keys.items():
                store[f"{op}.{k}" if op else k] = check
        out = {k.lower(): (k, "store", v) for k, v in store.items()}
        out.update({k.lower(): (k, "branch", v) for k, v in BRANCH_KEYS.items()})
        _known = out
    return _known


def _unknown(key: str) -> ConfigError:
    return ConfigError(f"unknown config key '{key}'",
                       hints=("'tract config --keys' lists the valid keys",))


@dataclass
class ConfigValue:
    key: str
    value: object
    scope: str  # branch | store

    def to_json(self) -> dict:
        return {"key": self.key, "value": self.value, "scope": self.scope}


def _check_key(key: str) -> None:
    if _SECRET_RE.search(key):  # first, so that e.g. api_key is named a secret
        raise ConfigError(
            f"refusing to store '{key}': secrets are never written into a store",
            hints=("pass API keys as arguments or environment variables (e.g. OPENAI_API_KEY)",),
        )
    if not _KEY_RE.match(key):
        raise ConfigError(f"invalid config key '{key}'")


def get(repo: Repo, key: str) -> ConfigValue | None:
    _check_key(key)
    known = known_keys().get(key.lower())
    if known is not None:
        key = known[0]
    if key in BRANCH_KEYS:
        head = repo.head()
        s = repo.settings(head.commit)
        return ConfigValue(key, s[key], "branch") if key in s else None
    v = repo.store.get_config_local(f"tract.{key}")
    return ConfigValue(key, v, "store") if v is not None else None


def key_list() -> list[tuple[str, str]]:
    """(key, scope) of every valid key: branch keys first, then store keys,
    each sorted."""
    return sorted(((k, s) for k, s, _v in known_keys().values()),
                  key=lambda ks: (ks[1] != "branch", ks[0].count("."), ks[0].lower()))


def list_all(repo: Repo) -> list[ConfigValue]:
    head = repo.head()
    out = [ConfigValue(k, v, "branch") for k, v in sorted(repo.settings(head.commit).items())]
    for k, v in repo.store.config_items("tract."):
        out.append(ConfigValue(k[len("tract."):], v, "store"))
    return out


def set_value(repo: Repo, key: str, value: str | None) -> ConfigValue | CommitResult:
    """Set (or with ``value=None`` unset) a key.  Branch keys make a commit.
    Unknown keys are refused (except unsetting one that is set), and the
    value of a typed key is checked."""
    _check_key(key)
    known = known_keys().get(key.lower())
    if known is None:
        if key in ("formatVersion",):
            raise ConfigError(f"'{key}' is managed by tract")
        if value is not None or repo.store.get_config_local(f"tract.{key}") is None:
            raise _unknown(key)
    else:
        key = known[0]  # as tract spells it (git config subsections are case-sensitive)
        if known[1] == "store" and value is not None:
            value = known[2](value)
    if key in BRANCH_KEYS:
        parsed = BRANCH_KEYS[key](value) if value is not None else None

        def build(tip):
            tree = repo.store.commit(tip).tree if tip else None
            settings = dict(repo.store.read_settings(tree)) if tree else {}
            if value is None:
                if key not in settings:
                    raise NothingToDoError(f"'{key}' is not set on this branch")
                settings.pop(key)
                subject = f"unset {key}"
            else:
                if settings.get(key) == parsed:
                    raise NothingToDoError(f"'{key}' is already {value}")
                settings[key] = parsed
                subject = f"set {key} = {value}"
            new_tree = repo.store.build_tree(tree, {}, settings, set_settings=True)
            note = repo.note(tip) if tip else None
            return Change(new_tree, subject, trailers=[("Tract-Config", key)],
                          context_tokens=note.context_tokens if note else 0,
                          entries=note.entries if note else 0)

        return repo.commit_loop(build, op="config")
    if key in ("formatVersion",):
        raise ConfigError(f"'{key}' is managed by tract")
    if value is not None and _SECRET_VALUE_RE.search(value):
        raise ConfigError(
            f"refusing to store the value of '{key}': it looks like an API key or token",
            hints=("pass API keys as arguments or environment variables (e.g. OPENAI_API_KEY)",),
        )
    if value is None:
        if not repo.store.unset_config(f"tract.{key}"):
            raise NothingToDoError(f"'{key}' is not set")
        return ConfigValue(key, None, "store")
    if key == "encoding":
        from .. import tokens

        if tokens.encoder(value) is None:
            raise ConfigError(f"unknown or unavailable encoding '{value}'")
    repo.store.set_config(f"tract.{key}", value)
    return ConfigValue(key, value, "store")
