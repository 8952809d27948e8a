"""Installs that keep working: setup.cfg's lower bounds, and constraints.txt pinning
every one of them (the versions CI tests) at a version those bounds allow."""

import configparser
import pathlib
import re

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]


def requirements(section: str, key: str) -> list[Requirement]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    lines = parser[section][key].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def pins() -> dict[str, str]:
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[canonicalize_name(name)] = version
    return pinned


def test_every_requirement_is_pinned_within_its_bounds():
    pinned = pins()
    wanted = requirements("options", "install_requires")
    for extra in ("test", "video", "tfds"):
        wanted += requirements("options.extras_require", extra)
    for requirement in wanted:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in constraints.txt"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside setup.cfg's {requirement}"
        )
    # Lower bounds only: an upper bound in setup.cfg would refuse the next JAX outright.
    for requirement in wanted:
        assert not re.search(r"<|==|~=", str(requirement.specifier)), requirement


def test_the_readme_and_ci_install_with_the_constraints():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . -c constraints.txt" in readme
    assert 'pip install -e ".[test]" -c constraints.txt' in readme
    assert 'pip install -e ".[test]" -c constraints.txt' in (ROOT / ".ci" / "run").read_text()


def test_the_readmes_links_lead_to_its_headings():
    """Every `(#anchor)` link of the README names one of its headings, as GitHub makes
    anchors: lower case, punctuation dropped, spaces to hyphens."""
    readme = (ROOT / "README.md").read_text()
    headings = re.findall(r"^#+ (.+)$", readme, re.M)
    anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
    links = re.findall(r"\]\(#([^)]+)\)", readme)
    assert len(links) >= 15
    assert [link for link in links if link not in anchors] == []
    # And every picture it shows is in the repository.
    for picture in re.findall(r"!\[[^\]]*\]\(([^)#]+)\)", readme):
        assert (ROOT / picture).is_file(), picture
