"""Everything that adapts Rasa 3.6's runtime: stores, speedups, payload parsing, pooled HTTP.

`install()` applies the run-time patches (`bot.runtime.patches`) to this process; the stores
are named in endpoints.yml and loaded by Rasa itself.
"""

from bot.core.rasa_version import check_installed_rasa, check_rasa_version

check_installed_rasa()


def install() -> None:
    """Check the Rasa version and every patch target, then apply all patches (or none)."""
    import rasa

    from bot.runtime.patches import PATCHES

    check_rasa_version(rasa.__version__)
    missing = [patch.name for patch in PATCHES if not patch.exists()]
    if missing:
        raise RuntimeError(
            f"Rasa {rasa.__version__} lacks what bot.runtime patches: " + ", ".join(missing)
        )
    values = [(patch, patch.new_value()) for patch in PATCHES]  # import everything first
    for patch, value in values:
        setattr(patch.owner(), patch.attribute, value)
