"""The shipped ruler against ner_jobs_annotation_guidelines.md: the names it tags (with their label and
span) and the ones it never tags, with the skill lists reduced to a few names so the shipped data files
(aliases.tsv, not_skills.txt, ambiguous.txt, cue_words.txt) decide."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ruler(tmp_path_factory: pytest.TempPathFactory):
    from nlpops.skills.ner import ruler_pipeline
    from nlpops.skills.patterns import build_ruler_patterns

    folder = tmp_path_factory.mktemp("lists")
    (folder / "languages.csv").write_text("name\nPython\nR\nGo\nC\nJava\nHTML\nLean\n")
    (folder / "platforms.csv").write_text("name\nLinux\nAmazon Web Services (42 P)\n")
    (folder / "databases.csv").write_text("name\nNoSQL\nAccess\n")
    return ruler_pipeline(
        build_ruler_patterns([folder / n for n in ("languages.csv", "platforms.csv", "databases.csv")])
    )


def found(nlp, text: str) -> list[tuple[str, str]]:
    return [(e.text, e.label_) for e in nlp(text).ents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Stack: React, Node.js, Kubernetes, Power BI, Git and scikit-learn.",
            [
                ("React", "FRAMEWORKS"),
                ("Node.js", "FRAMEWORKS"),
                ("Kubernetes", "FRAMEWORKS"),
                ("Power BI", "FRAMEWORKS"),
                ("Git", "FRAMEWORKS"),
                ("scikit-learn", "FRAMEWORKS"),
            ],
        ),
        (
            "Microsoft Azure, Google Cloud Platform et Apache Spark",
            [
                ("Microsoft Azure", "PLATFORM"),
                ("Google Cloud Platform", "PLATFORM"),
                ("Apache Spark", "FRAMEWORKS"),
            ],
        ),
        (
            "SQL Server, MS SQL Server, Azure SQL",
            [("SQL Server", "DB"), ("MS SQL Server", "DB"), ("Azure SQL", "DB")],
        ),
        (
            "GraphQL, MATLAB, Simulink, LabVIEW, VBA",
            [
                ("GraphQL", "PROG_LANG"),
                ("MATLAB", "PROG_LANG"),
                ("Simulink", "PROG_LANG"),
                ("LabVIEW", "PROG_LANG"),
                ("VBA", "PROG_LANG"),
            ],
        ),
        (
            "Redshift, BigQuery, Hive, Impala, Elasticsearch",
            [(n, "DB") for n in ("Redshift", "BigQuery", "Hive")]
            + [("Impala", "DB"), ("Elasticsearch", "DB")],
        ),
        (
            "S3, EC2, Azure DevOps, CloudFormation, OpenShift",
            [(n, "PLATFORM") for n in ("S3", "EC2", "Azure DevOps")]
            + [("CloudFormation", "PLATFORM"), ("OpenShift", "PLATFORM")],
        ),
        (
            "HDFS, Sqoop, Selenium, Jest, Cucumber",
            [(n, "FRAMEWORKS") for n in ("HDFS", "Sqoop", "Selenium")]
            + [("Jest", "FRAMEWORKS"), ("Cucumber", "FRAMEWORKS")],
        ),
        (
            "Tableau, Talend, Dataiku, Unreal Engine",
            [(n, "FRAMEWORKS") for n in ("Tableau", "Talend", "Dataiku")] + [("Unreal Engine", "FRAMEWORKS")],
        ),
        (
            "Python/R, C#, C++ et .NET",
            [
                ("Python", "PROG_LANG"),
                ("R", "PROG_LANG"),
                ("C#", "PROG_LANG"),
                ("C++", "PROG_LANG"),
                (".NET", "FRAMEWORKS"),
            ],
        ),
    ],
)
def test_guideline_names_tagged(ruler, text: str, expected: list) -> None:
    assert found(ruler, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KUBERNETES and pyspark", [("KUBERNETES", "FRAMEWORKS"), ("pyspark", "FRAMEWORKS")]),
        (
            "NodeJS, ReactJS, Vue JS, PowerBI",
            [
                ("NodeJS", "FRAMEWORKS"),
                ("ReactJS", "FRAMEWORKS"),
                ("Vue JS", "FRAMEWORKS"),
                ("PowerBI", "FRAMEWORKS"),
            ],
        ),
        ("strong programmingPython", [("Python", "PROG_LANG")]),
        ("C++Good communication", [("C++", "PROG_LANG")]),
        ("Java ou C#Vous êtes créatif", [("Java", "PROG_LANG"), ("C#", "PROG_LANG")]),
        ("Python et VBACompétences requises", [("Python", "PROG_LANG"), ("VBA", "PROG_LANG")]),
        ("outils TALENDGit : commandes", [("TALEND", "FRAMEWORKS"), ("Git", "FRAMEWORKS")]),
    ],
)
def test_case_and_glued_spellings(ruler, text: str, expected: list) -> None:
    assert found(ruler, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Knowledge of HTML, CSS, XML, JSON and YAML.",
        "A NoSQL database in a data lake.",
        "Linux and Windows, Excel, Word and PowerPoint.",
        "We track work in JIRA and Confluence, chat on Microsoft Teams.",
        "SAP modules, REST and SOAP services, MVC.",
        "Go to market with a world class team.",
        "Budget R&D en hausse.",
        "Lean management and ML for the business.",
        "These tools spark joy.",
        "Oracle is hiring in Casablanca.",
        "You will access the data.",
        "Minimum grade C in maths.",
    ],
)
def test_guideline_non_skills_untagged(ruler, text: str) -> None:
    assert found(ruler, text) == []


def test_ambiguous_names_tagged_in_context(ruler) -> None:
    assert found(ruler, "Frameworks: Spark, Hadoop") == [("Spark", "FRAMEWORKS"), ("Hadoop", "FRAMEWORKS")]
    assert found(ruler, "Oracle, PostgreSQL") == [("Oracle", "DB"), ("PostgreSQL", "DB")]


def test_not_skills_override_the_lists(ruler) -> None:
    patterns = ruler.get_pipe("entity_ruler").patterns
    names = {p["pattern"].lower() for p in patterns}
    assert "python" in names and "linux" not in names and "nosql" not in names and "html" not in names
