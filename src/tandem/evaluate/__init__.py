"""Evaluation harness: run a question set, score retrieval, citations, answers, abstention,
routing and latency, render an HTML report, and compare two runs."""

from tandem.evaluate.compare import Comparison, compare_runs, render_compare
from tandem.evaluate.judge import CitationJudge, agreement, load_labels
from tandem.evaluate.questions import EvalQuestion, QuestionSet, load_questions
from tandem.evaluate.report import render_report
from tandem.evaluate.runner import EvalRun, EvalRunner, load_run

__all__ = [
    "CitationJudge",
    "Comparison",
    "EvalQuestion",
    "EvalRun",
    "EvalRunner",
    "QuestionSet",
    "agreement",
    "compare_runs",
    "load_labels",
    "load_questions",
    "load_run",
    "render_compare",
    "render_report",
]
