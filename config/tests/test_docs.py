from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_shows_the_compiled_typescript_example_in_the_api_docs():
    example = (ROOT / "clients/typescript/example.ts").read_text()
    block = example.split("// --- example\n")[1].split("// --- end")[0]
    assert len(block.strip().splitlines()) == 5
    assert f"```ts\n{block}```" in (ROOT / "docs/api.md").read_text()


def test_it_links_the_api_docs_from_the_readme():
    assert "docs/api.md" in (ROOT / "README.md").read_text()


def settings_table():
    import importlib.util

    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts/settings_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_keeps_the_settings_page_generated_from_env_example():
    assert (ROOT / "docs/settings.md").read_text() == settings_table().settings_doc(), (
        "run python scripts/settings_table.py"
    )


def test_it_lists_in_env_example_every_variable_the_settings_read_and_no_other():
    import re

    source = (ROOT / "config/settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|float|list)\("([A-Z0-9_]+)"', source))
    # Each identity provider's settings are read as f"{prefix}NAME"; .env.example lists the first's.
    read |= {"OIDC_" + name for name in re.findall(r'env_\w+\(f"\{prefix\}([A-Z0-9_]+)"', source)}
    listed = {name for _, name, _, _ in settings_table().env_example_rows()}
    compose_only = {"POSTGRES_PASSWORD"}
    assert read == listed - compose_only
