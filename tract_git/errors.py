"""Every error tract raises, each carrying the exit code the CLI uses.

Exit codes follow git: 0 success; 1 a negative answer (differences found,
a hook or policy refused, a merge stopped on conflicts); 128 fatal (not a
store, bad revision, lost a ref race, model failed); 129 usage; 130
interrupted.  The CLI maps an error to its code in one place
(``tract_git.cli.main``); the library never prints.
"""

from __future__ import annotations


class TractError(Exception):
    """Base of every tract error.  ``str(err)`` is the one-line message."""

    exit_code = 128
    #: optional "hint:" lines the CLI prints after the message
    hints: tuple[str, ...] = ()

    def __init__(self, message: str, *, hints: tuple[str, ...] | list[str] = ()):
        super().__init__(message)
        if hints:
            self.hints = tuple(hints)


class UsageError(TractError):
    """The call itself is wrong (bad option value, missing argument)."""

    exit_code = 129


class NotAStoreError(TractError):
    """No tract store where one was expected."""


class StoreExistsError(TractError):
    """``init`` refused: the directory is already something else."""


class BadRevisionError(TractError):
    """A revision that names no commit."""


class UnknownEntryError(TractError):
    """An entry reference (position, id or commit) that names no entry."""


class InvalidEntryError(UsageError):
    """Entry fields that are not valid (role, type, priority, empty content)."""


class InvalidInputError(UsageError):
    """Input bytes that cannot be taken (invalid UTF-8, a bad number...)."""


class RefUpdateError(TractError):
    """A ref could not be updated: locked by another writer, or the race
    was lost more times than the retry bound allows."""


class ReadOnlyStoreError(TractError):
    """The store cannot be written to."""


class HookRefusedError(TractError):
    """A hook exited non-zero and so refused the operation."""

    exit_code = 1


class NothingToDoError(TractError):
    """The operation would change nothing (e.g. pin an entry already pinned)."""

    exit_code = 1


class ConfigError(TractError):
    """A config key or value that is not valid."""

    exit_code = 129


class ConflictError(TractError):
    """An operation stopped on conflicts that need a decision."""

    exit_code = 1


class OperationInProgressError(TractError):
    """Another multi-step operation (merge, rebase) is in progress."""


class BudgetError(TractError):
    """A token budget cannot be met."""


class LLMError(TractError):
    """A model call failed (after retries) or returned something unusable."""


class ModelNotConfiguredError(LLMError):
    """An operation needs a model and none is configured."""


# --- branches, merge and rewrites (issue 3) --------------------------------
class InvalidRefNameError(TractError):
    """A branch name git would not accept (``..``, ``~``, spaces, ``.lock``...)."""


class BranchExistsError(TractError):
    """A branch of that name already exists."""


class BranchNotFoundError(TractError):
    """No branch of that name."""


class BranchDeleteRefusedError(TractError):
    """Deleting the current branch, or one not merged without ``-D``."""

    exit_code = 1


class DetachedHeadError(TractError):
    """The operation needs HEAD on a branch."""


class NoOperationInProgressError(TractError):
    """``--continue``/``--abort``/``resolve`` with no such operation stopped."""


class NotInConflictError(TractError):
    """``resolve`` named an entry that is not in conflict."""


class UnresolvedConflictsError(ConflictError):
    """``--continue`` while conflicts are still unresolved."""


class ReorderRefusedError(TractError):
    """A reorder that would break the conversation, without ``--force``."""

    exit_code = 1

    def __init__(self, message: str, *, problems: list[str] | tuple = (), hints=()):
        super().__init__(message, hints=hints)
        self.problems = list(problems)

# --- compression and budgets (issue 5) -------------------------------------


class CompressError(TractError):
    """A compress could not be made (an empty range, a summary over its
    target, the branch moved under it)."""


class CompressValidationError(CompressError):
    """The result of a compress failed its checks (a pinned entry changed,
    kept entries reordered); nothing was written to the branch."""


class PlanError(UsageError):
    """A compress plan that cannot be read or does not fit the context."""


class PinnedOverBudgetError(BudgetError):
    """The pinned entries alone do not fit in the token budget."""


# --- sub-agents and sync (issue 6) ------------------------------------------


class UnknownAgentError(TractError):
    """No sub-agent of that name in the store."""


class AgentExistsError(TractError):
    """``spawn`` refused: a sub-agent of that name exists already."""


class HistoryPrunedError(TractError):
    """The sub-agent history behind a collapse was pruned by gc; only the
    collapse commit (output, summary, provenance trailer) remains."""

    exit_code = 1


class RemoteError(TractError):
    """A remote could not be reached or read, or the transport failed."""


class PushRejectedError(TractError):
    """The remote refused a push (for example, not a fast-forward)."""

    exit_code = 1
