from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_shows_the_compiled_typescript_example_in_the_api_docs():
    example = (ROOT / "clients/typescript/example.ts").read_text()
    block = example.split("// --- example\n")[1].split("// --- end")[0]
    assert len(block.strip().splitlines()) == 5
    assert f"```ts\n{block}```" in (ROOT / "docs/api.md").read_text()


def test_it_links_the_api_docs_from_the_readme():
    assert "docs/api.md" in (ROOT / "README.md").read_text()
