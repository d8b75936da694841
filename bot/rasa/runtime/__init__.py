"""Everything that adapts Rasa 3.6's runtime: stores, speedups, payload parsing, pooled HTTP,
and blocking storage calls kept off the event loop (`bot.rasa.runtime.threads`).

`install()` applies the run-time patches (`bot.rasa.runtime.patches`) to this process; the stores
are named in endpoints.yml and loaded by Rasa itself.
"""

from bot.rasa.version import check_rasa_version


def install() -> None:
    """Check the Rasa version and every registry entry, then apply all patches (or none)."""
    import rasa

    from bot.rasa.runtime.patches import PATCHES, PRIVATE_USES

    check_rasa_version(rasa.__version__)
    missing = [entry.name for entry in (*PATCHES, *PRIVATE_USES) if not entry.exists()]
    if missing:
        raise RuntimeError(
            f"Rasa {rasa.__version__} lacks what bot.rasa.runtime patches: " + ", ".join(missing)
        )
    values = [(patch, patch.new_value()) for patch in PATCHES]  # import everything first
    for patch, value in values:
        setattr(patch.owner(), patch.attribute, value)
