"""Sphinx configuration for the engramlab documentation site.

Build with ``make docs`` (warnings are errors). Everything is offline: MathJax is served
from ``_vendor/`` (fetched once by ``_tools/fetch_mathjax.py``), the theme's fonts and
scripts are its own static files, there is no intersphinx.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("ENGRAMLAB_QUIET", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import engramlab  # noqa: E402

project = "engramlab"
author = "The engramlab developers"
copyright = "2026, The engramlab developers"  # noqa: A001
version = release = engramlab.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "engram_docstrings",
    "engram_measured",
    "engram_exec",
]

#: Pages whose ```python blocks run when the site is built, their output shown below
#: each block (``_ext/engram_exec.py``; a block that raises fails the build). The other
#: pages' blocks are run by ``tests/test_docs_code.py``.
engram_exec_pages = ["getting-started", "fit-your-own-data"]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_vendor", "_tools", "_ext", "auto_examples/*.ipynb",
                    "auto_examples/**/*.ipynb", "sg_execution_times.rst"]
templates_path = ["_templates"]

# -- MyST (the user guide is Markdown) ---------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# -- cross-references: every engramlab target must resolve ------------------------------
nitpicky = True
#: References to other projects (no intersphinx: the build is offline) and to typing
#: constructs are not checked; everything under ``engramlab.`` is.
nitpick_ignore_regex = [
    (r"py:.*", r"(jax|jnp|np|numpy|pandas|pd|xarray|xr|mne|mne_connectivity|matplotlib|plt|"
               r"typing|collections|pathlib|os|io|dask|distributed|scipy|equinox|eqx|pydantic|"
               r"numbers|types|datetime|builtins|typer|rich|psifr|cymr|h5py|concurrent|"
               r"sklearn|numpyro|arviz|diffrax|torch|tomllib|enum|dataclasses|abc|importlib)(\..*)?"),
    (r"py:.*", r"(int|float|str|bool|bytes|complex|dict|list|tuple|set|frozenset|object|"
               r"type|None|slice|range|callable|Ellipsis|Exception|ValueError|TypeError|"
               r"KeyError|RuntimeError|UserWarning|Warning|Any|Callable|Sequence|Mapping|"
               r"Iterable|Iterator|Literal|Protocol|Path|Array|ArrayLike|DataFrame|Dataset|"
               r"DataArray|Axes|Figure|Generator|PRNGKeyArray|Self|NDArray)"),
    # private modules and private helpers (shown as code, not linked)
    (r"py:.*", r"engramlab(\.\w+)*\._\w+(\.\w+)*"),
]
#: Return types and helpers named in docstrings that are not re-exported (shown as code).
nitpick_ignore = [
    ("py:class", "RunOutcome"), ("py:class", "SweepStats"), ("py:meth", "ChunkStore.merge"),
    ("py:func", "make_store"), ("py:data", "KNOWN_MODELS"), ("py:data", "DEFAULT_FREE"),
    ("py:class", "engramlab.experiments.config.ResolvedExperiment"),
    ("py:class", "engramlab.experiments.runner.RunOutcome"),
    ("py:class", "engramlab.experiments.store.ChunkStore"),
    ("py:class", "engramlab.experiments.sweep.SweepStats"),
    ("py:data", "DEFAULT_DESIGN"), ("py:func", "traced_reads"),
]
default_role = "py:obj"

# -- autodoc -----------------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource",
                           "show-inheritance": False}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_class_signature = "separated"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False
autosummary_generate = False
add_module_names = False
python_use_unqualified_type_names = True

# -- MathJax, local --------------------------------------------------------------------
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {"options": {"enableMenu": False},
                   "loader": {"load": []}}
if not (HERE / "_vendor" / "mathjax" / "tex-svg-full.js").exists():
    raise RuntimeError("MathJax is missing: run `python docs/_tools/fetch_mathjax.py` "
                       "(or `make docs`, which does it once)")

# -- sphinx-gallery ----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples" / "gallery")],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "subsection_order": [f"../examples/gallery/{d}" for d in
                         ("memory", "attractor", "cmr", "softmax", "eeg", "experiments")],
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "show_signature": False,
    "line_numbers": False,
    "plot_gallery": "True",
    "min_reported_time": 0,
    "capture_repr": (),
    "first_notebook_cell": None,
    "notebook_images": False,
    # the computation-times pages load jQuery/DataTables from a CDN: not in an offline site
    "write_computation_times": False,
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"engramlab {release}"
html_static_path = ["_static", "_vendor"]
html_css_files = ["engramlab.css"]
html_show_sourcelink = False
html_copy_source = False
#: search summaries are fetched page by page, which browsers refuse for file:// sites
html_show_search_summary = False
html_last_updated_fmt = None
#: without a default the theme's script logs "invalid theme mode" as a console error
html_context = {"default_mode": "auto"}
#: pages with no section navigation get the left sidebar's width for their code
html_sidebars = {"index": [], "getting-started": [], "fit-your-own-data": []}
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "header_links_before_dropdown": 4,
    "icon_links": [],
    "check_switcher": False,
}
