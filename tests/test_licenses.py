"""civic-iot is Apache-2.0: nothing it installs may be under the GPL or AGPL."""

import importlib.metadata


def declared_license(distribution: importlib.metadata.Distribution) -> str:
    meta = distribution.metadata
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License")]
    # A License field that holds the whole license text (matplotlib's, with the notices
    # of what it bundles) is named by its first line; the classifiers say the rest.
    field = (meta.get("License") or "").strip().splitlines()
    return " ".join([meta.get("License-Expression") or "", field[0] if field else "", *classifiers])


def is_copyleft(text: str) -> bool:
    """Copyleft unless a permissive alternative is offered ("FTL OR GPL-2.0")."""
    alternatives = text.split(" OR ")
    return all(_copyleft(alternative) for alternative in alternatives)


def _copyleft(text: str) -> bool:
    words = text.replace("(", " ").replace(")", " ").replace("-", " ").split()
    return any(word.upper() in {"GPL", "GPLV2", "GPLV3", "AGPL", "AGPLV3"} for word in words) or (
        "General Public License" in text and "Lesser" not in text and "Library" not in text
    )


def test_no_installed_distribution_is_gpl() -> None:
    offenders = sorted(
        f"{d.metadata['Name']}: {declared_license(d)[:80]}"
        for d in importlib.metadata.distributions()
        if is_copyleft(declared_license(d))
    )
    assert offenders == []


def test_the_check_recognises_gpl_and_spares_permissive_and_lgpl() -> None:
    assert is_copyleft("GPLv3 License :: OSI Approved :: GNU General Public License v3 (GPLv3)")
    assert is_copyleft("AGPL-3.0-only")
    assert not is_copyleft("Apache-2.0 License :: OSI Approved :: Apache Software License")
    assert not is_copyleft("MIT")
    assert not is_copyleft("FTL OR GPL-2.0-or-later")  # the permissive one may be chosen
    assert is_copyleft("GPL-2.0-only OR GPL-3.0-only")
    assert not is_copyleft(
        "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)"
    )
