"""Tests of scripts/check-modules on small synthetic crates.

Run from the repository root:
    python3 -m unittest scripts/check_modules_test.py
"""

import importlib.machinery
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "check-modules")

_loader = importlib.machinery.SourceFileLoader("check_modules", SCRIPT)
_spec = importlib.util.spec_from_loader("check_modules", _loader)
cm = importlib.util.module_from_spec(_spec)
_loader.exec_module(cm)


class Tree:
    """A temporary `src/` folder built from {relative path: source}."""

    def __init__(self, files):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "src")
        for rel, text in files.items():
            path = os.path.join(self.src, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))

    def path(self, rel):
        return os.path.join(self.src, rel)

    def crate(self, root="lib.rs"):
        return cm.Crate(self.path(root), self.src)

    def edges(self, root="lib.rs"):
        """Edges as {(from, to)} of paths relative to src/."""
        crate = self.crate(root)
        rel = lambda mp: os.path.relpath(crate.name(mp), self.src)
        return {(rel(a), rel(b)) for a, b in crate.edges()}

    def check(self, max_lines=cm.MAX_LINES):
        out = io.StringIO()
        n = cm.check([self.src], max_lines=max_lines, out=out)
        return n, out.getvalue()

    def close(self):
        self.tmp.cleanup()


class CheckModulesTest(unittest.TestCase):
    def tree(self, files):
        t = Tree(files)
        self.addCleanup(t.close)
        return t

    def test_no_cycle_is_clean(self):
        t = self.tree(
            {
                "lib.rs": "pub mod a;\npub mod b;\npub use a::Thing;\n",
                "a.rs": "use crate::b::Helper;\npub struct Thing(Helper);\n",
                "b.rs": "pub struct Helper;\n",
            }
        )
        self.assertEqual(t.edges(), {("a.rs", "b.rs")})
        self.assertEqual(t.check(), (0, "%s: 3 module files, 1 imports between them\n"
                                        % t.path("lib.rs")))

    def test_two_file_cycle_through_crate_paths(self):
        t = self.tree(
            {
                "lib.rs": "mod a;\nmod b;\n",
                "a.rs": "pub struct A;\npub fn f() -> crate::b::B { crate::b::B }\n",
                "b.rs": "use crate::a::A;\npub struct B;\nfn g(_: A) {}\n",
            }
        )
        n, out = t.check()
        self.assertEqual(n, 1)
        self.assertIn("cycle: %s <-> %s" % (t.path("a.rs"), t.path("b.rs")), out)
        self.assertIn("a.rs -> %s  (line 2: crate::b::B)" % t.path("b.rs"), out)
        self.assertIn("b.rs -> %s  (line 1: use crate::a::A)" % t.path("a.rs"), out)

    def test_cycle_through_three_files_and_super(self):
        t = self.tree(
            {
                "lib.rs": "mod x;\nmod y;\nmod z;\n",
                "x.rs": "use super::y::Y;\npub struct X;\n",
                "y.rs": "pub struct Y(crate::z::Z);\n",
                "z.rs": "pub struct Z;\nfn f() -> super::x::X { super::x::X }\n",
            }
        )
        n, out = t.check()
        self.assertEqual(n, 1)
        self.assertIn(
            "cycle: %s <-> %s <-> %s" % (t.path("x.rs"), t.path("y.rs"), t.path("z.rs")), out
        )

    def test_resolves_to_the_deepest_module_file(self):
        t = self.tree(
            {
                "lib.rs": "mod scheduler;\nmod worker;\nmod other;\n",
                "scheduler/mod.rs": "mod admission;\npub struct Scheduler;\n",
                "scheduler/admission.rs": "pub struct X;\n",
                "worker.rs": "use crate::scheduler::admission::X;\n",
                "other.rs": "fn f(_: crate::scheduler::Scheduler) {}\n",
            }
        )
        self.assertEqual(
            t.edges(),
            {
                ("worker.rs", "scheduler/admission.rs"),
                ("other.rs", "scheduler/mod.rs"),
            },
        )

    def test_parent_and_child_cycle_but_mod_is_containment(self):
        files = {
            "lib.rs": "mod s;\n",
            "s/mod.rs": "mod child;\npub struct Top;\n",
            "s/child.rs": "use super::Top;\npub struct Leaf;\n",
        }
        t = self.tree(files)
        self.assertEqual(t.check()[0], 0)
        self.assertEqual(t.edges(), {("s/child.rs", "s/mod.rs")})
        # The parent now uses its child: a cycle, whether it says `self::`
        # or just the child's name.
        for use in ("use self::child::Leaf;", "use child::Leaf;", "fn f(_: child::Leaf) {}"):
            files["s/mod.rs"] = "mod child;\n%s\npub struct Top;\n" % use
            t = self.tree(files)
            n, out = t.check()
            self.assertEqual(n, 1, use)
            self.assertIn("cycle: ", out)

    def test_test_code_comments_and_strings_are_not_imports(self):
        t = self.tree(
            {
                "lib.rs": "mod a;\nmod b;\n",
                "a.rs": "use crate::b::B;\npub struct A;\n",
                "b.rs": textwrap.dedent(
                    """\
                    //! Uses [`crate::a::A`] in a doc link only.
                    pub struct B;
                    /* crate::a::A in a block comment */
                    const S: &str = "crate::a::A";
                    const R: &str = r#"use crate::a::A;"#;
                    const C: char = '{';
                    fn f<'a>(x: &'a str) -> &'a str { x }
                    #[cfg(test)]
                    mod tests {
                        use crate::a::A;
                        fn g() -> crate::a::A { A }
                    }
                    #[cfg(all(test, feature = "x"))]
                    fn h() -> crate::a::A { crate::a::A }
                    """
                ),
            }
        )
        self.assertEqual(t.edges(), {("a.rs", "b.rs")})
        self.assertEqual(t.check()[0], 0)

    def test_test_only_file_module_is_left_out(self):
        t = self.tree(
            {
                "lib.rs": "mod a;\n#[cfg(test)]\nmod fixtures;\n",
                "a.rs": "pub struct A;\n",
                "fixtures.rs": "use crate::a::A;\n" + "pub fn f() -> u8 { 1 }\n" * 700,
            }
        )
        self.assertEqual(len(t.crate().modules), 2)
        self.assertEqual(t.check()[0], 0)

    def test_use_trees_are_expanded(self):
        t = self.tree(
            {
                "lib.rs": "mod a;\nmod b;\nmod c;\nmod d;\n",
                "a.rs": "use crate::{b::{self, B}, c::C as Cee, d::*};\n",
                "b.rs": "pub struct B;\n",
                "c.rs": "pub struct C;\n",
                "d.rs": "pub struct D;\n",
            }
        )
        self.assertEqual(t.edges(), {("a.rs", "b.rs"), ("a.rs", "c.rs"), ("a.rs", "d.rs")})

    def test_re_exports_are_followed_not_counted(self):
        files = {
            "lib.rs": "mod a;\nmod b;\npub use a::Thing;\n",
            "a.rs": "pub struct Thing;\n",
            "b.rs": "fn f(_: crate::Thing) {}\n",
        }
        # `crate::Thing` is a's, not lib.rs's.
        self.assertEqual(self.tree(files).edges(), {("b.rs", "a.rs")})
        # A compatibility re-export in the old home is no import of the new.
        files = {
            "lib.rs": "mod engine;\nmod service;\n",
            "service.rs": "pub use crate::engine::Core;\npub struct Service;\n",
            "engine.rs": "use crate::service::Service;\npub struct Core(Service);\n",
        }
        t = self.tree(files)
        self.assertEqual(t.edges(), {("engine.rs", "service.rs")})
        self.assertEqual(t.check()[0], 0)
        # ... unless the module's own code uses the name it re-exports.
        files["service.rs"] = "pub use crate::engine::Core;\npub struct Service;\nfn f(_: &Core) {}\n"
        self.assertEqual(self.tree(files).check()[0], 1)

    def test_super_inside_inline_modules(self):
        t = self.tree(
            {
                "lib.rs": "mod a;\nmod b;\n",
                "a.rs": "mod inner {\n    use super::super::b::B;\n    use super::Local;\n}\npub struct Local;\n",
                "b.rs": "pub struct B;\n",
            }
        )
        self.assertEqual(t.edges(), {("a.rs", "b.rs")})

    def test_non_mod_rs_children_and_missing_files(self):
        t = self.tree(
            {
                "lib.rs": "mod a;\nmod gone;\n",
                "a.rs": "mod b;\nuse b::B;\n",
                "a/b.rs": "pub struct B;\n",
            }
        )
        crate = t.crate()
        self.assertIn(("a", "b"), crate.modules)
        self.assertEqual(len(crate.warnings), 1)
        self.assertIn("gone", crate.warnings[0])

    def test_line_limit_counts_non_test_code_only(self):
        code = "pub fn f%d() {}\n"
        body = "".join(code % i for i in range(600))
        filler = "// a comment\n\n/* block\n comment */\n"
        tests = "#[cfg(test)]\nmod tests {\n" + "    fn t() {}\n" * 50 + "}\n"
        t = self.tree({"lib.rs": filler + body + tests})
        self.assertEqual(t.check()[0], 0)
        t = self.tree({"lib.rs": filler + body + "pub fn extra() {}\n" + tests})
        n, out = t.check()
        self.assertEqual(n, 1)
        self.assertIn("too long: %s: 601 lines of non-test code (limit 600)" % t.path("lib.rs"), out)
        self.assertEqual(t.check(max_lines=700)[0], 0)

    def test_main_and_bin_roots(self):
        t = self.tree(
            {
                "main.rs": "mod a;\nmod b;\n",
                "a.rs": "use crate::b::B;\npub struct A;\n",
                "b.rs": "pub struct B(crate::a::A);\n",
                "bin/tool.rs": "fn main() {}\n",
            }
        )
        self.assertEqual(cm.crate_roots(t.src), [t.path("main.rs"), t.path("bin/tool.rs")])
        self.assertEqual(t.check()[0], 1)

    def test_command_line_exit_status(self):
        clean = self.tree({"lib.rs": "pub fn f() {}\n"})
        bad = self.tree(
            {"lib.rs": "mod a;\nmod b;\n", "a.rs": "use crate::b::B;\npub struct A;\n",
             "b.rs": "use crate::a::A;\npub struct B;\n"}
        )
        empty = self.tree({"other.rs": ""})
        run = lambda *a: subprocess.run(
            [sys.executable, SCRIPT, *a], capture_output=True, text=True
        )
        r = run(clean.src)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(r.stdout.endswith("0 findings\n"))
        r = run(clean.src, bad.src)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stdout.endswith("1 finding\n"))
        self.assertEqual(run(empty.src).returncode, 2)
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("CRATE_SRC_DIR", r.stdout)


class LexTest(unittest.TestCase):
    def test_lex_keeps_offsets_and_blanks_non_code(self):
        src = 'let s = "a // b"; // c\nlet c = \'"\'; /* x /* y */ z */ let r = br##"q"#"##;\n'
        code = cm.lex(src)
        self.assertEqual(len(code), len(src))
        self.assertEqual(code.count("\n"), src.count("\n"))
        self.assertNotIn("//", code)
        self.assertNotIn("/*", code)
        self.assertIn("let r", code)
        self.assertNotIn("q", code)
        self.assertEqual(code.count('"'), 4)  # the quotes of the two strings

    def test_lifetimes_are_not_char_literals(self):
        code = cm.lex("fn f<'a>(x: &'a u8) -> char { 'b' }\n")
        self.assertIn("fn f<'a>(x: &'a u8)", code)
        self.assertIn("'x'", code)


if __name__ == "__main__":
    unittest.main()
