"""Operations (porcelain): plain functions over an open ``Repo``.

One module per operation.  Operations never print and never prompt; they
return result objects and raise ``TractError`` subclasses.
"""
