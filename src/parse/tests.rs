//! Session-level tests: inputs fed in pieces of every size give the same rows; errors say
//! where they are. (Values are checked against csv-parse and JSON.parse in __test__/.)

use super::tape::op;
use super::*;
use crate::kernels::test_util::NEVER;

/// Renders a tape's rows as text (strings quoted, shapes as their key lists).
fn render(t: &Tape, keys: &mut Vec<(u32, String)>) -> Vec<String> {
    if !t.shapes.is_empty() {
        let defs: Vec<(u32, String)> = t.shapes[2..t.shapes.len() - 2]
            .split("],[")
            .map(|d| {
                let (p, k) = d.split_once(',').unwrap();
                (p.parse().unwrap(), k.trim_matches('"').to_owned())
            })
            .collect();
        keys.extend(defs);
    }
    let key_list = |mut id: u32, keys: &Vec<(u32, String)>| {
        let mut out = Vec::new();
        while id != 0 {
            let (p, k) = &keys[id as usize - 1];
            out.push(k.clone());
            id = *p;
        }
        out.reverse();
        out
    };
    let (mut s1, mut s2, mut li, mut ni) = (0usize, 0usize, 0usize, 0usize);
    let mut rows = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for &o in &t.ops {
        let v = match o & 15 {
            op::STR1 => {
                let n = t.lens[li] as usize;
                li += 1;
                s1 += n;
                format!(
                    "{:?}",
                    t.text1[s1 - n..s1]
                        .iter()
                        .map(|&c| c as char)
                        .collect::<String>()
                )
            }
            op::STR2 => {
                let n = t.lens[li] as usize;
                li += 1;
                s2 += n;
                format!("{:?}", String::from_utf16_lossy(&t.text2[s2 - n..s2]))
            }
            op::NUM | op::DATE | op::DATE_LOCAL => {
                ni += 1;
                format!("{}", t.nums[ni - 1])
            }
            op::TRUE => "true".into(),
            op::FALSE => "false".into(),
            op::NULL => "null".into(),
            op::ARR | op::OBJ => {
                depth += 1;
                cur.push(if o == op::ARR { '[' } else { '{' });
                continue;
            }
            op::ARR_END => "]".into(),
            _ => format!("}}{:?}", key_list(o >> 4, keys)),
        };
        cur.push_str(&v);
        cur.push(' ');
        if matches!(o & 15, op::ARR_END | op::OBJ_END) {
            depth -= 1;
        }
        if depth == 0 {
            rows.push(std::mem::take(&mut cur).trim_end().to_owned());
        }
    }
    rows
}

fn limits() -> Limits {
    Limits {
        batch_rows: None,
        batch_bytes: 1 << 20,
        max_row_bytes: 1 << 20,
        skip_errors: false,
        bom: true,
        latin1: false,
    }
}

fn csv_spec() -> CsvSpec {
    CsvSpec {
        delimiter: b',',
        quote: Some(b'"'),
        escape: None,
        comment: None,
        skip_empty_lines: false,
        relax_column_count: false,
        header: false,
        names: None,
        default_kind: Kind::String,
        cast: Vec::new(),
        shape: Shape::Arrays,
    }
}

/// All rows of `input` fed in pieces of `piece` bytes, and the error that ended it.
fn run(
    format: Format,
    limits: Limits,
    input: &[u8],
    piece: usize,
) -> (Vec<String>, Option<ParseError>) {
    let mut s = Session::new(format, limits).unwrap();
    let (mut rows, mut keys) = (Vec::new(), Vec::new());
    let mut pieces = input.chunks(piece.max(1));
    let mut next = pieces.next();
    loop {
        if let Some(piece) = next {
            s.feed(piece);
        }
        let step = s.step(next.is_none(), NEVER).unwrap();
        if let Some(t) = &step.tape {
            rows.extend(render(t, &mut keys));
        }
        if step.error.is_some() || step.done {
            return (rows, step.error);
        }
        if step.need_input {
            next = pieces.next();
        }
    }
}

#[test]
fn csv_rows_do_not_depend_on_how_input_is_cut() {
    let input = "a,\"b,\"\"c\"\"\nd\",é\r\n\"\",x,李\n1,2,3".as_bytes();
    let (whole, err) = run(Format::Csv(csv_spec()), limits(), input, input.len());
    assert!(err.is_none());
    assert_eq!(
        whole,
        [
            r#"["a" "b,\"c\"\nd" "é" ]"#,
            r#"["" "x" "李" ]"#,
            r#"["1" "2" "3" ]"#
        ]
    );
    for piece in 1..input.len() {
        assert_eq!(
            run(Format::Csv(csv_spec()), limits(), input, piece).0,
            whole,
            "pieces of {piece}"
        );
    }
}

#[test]
fn csv_errors_say_where() {
    let cases: [(&str, u64, u64, &str); 4] = [
        ("a,b\nc,d\"e\n", 2, 4, "Invalid Opening Quote"),
        ("a,b\n\"c\"x,d\n", 2, 4, "Invalid Closing Quote"),
        ("a,b\nc,d\ne\n", 3, 1, "Invalid Record Length"),
        ("a,b\nc,\"d\n\n", 2, 3, "Quote Not Closed"),
    ];
    for (input, line, column, message) in cases {
        for piece in [1, 3, input.len()] {
            let (rows, err) = run(Format::Csv(csv_spec()), limits(), input.as_bytes(), piece);
            let err = err.unwrap_or_else(|| panic!("{input:?} parsed"));
            assert!(
                err.message.starts_with(message),
                "{input:?}: {}",
                err.message
            );
            assert_eq!(
                (err.line, err.column),
                (line, column),
                "{input:?} in pieces of {piece}"
            );
            assert_eq!(
                rows.len() as u64,
                line - 1,
                "the rows before the error are delivered"
            );
        }
    }
}

#[test]
fn skipped_rows_are_counted_and_parsing_goes_on() {
    let mut l = limits();
    l.skip_errors = true;
    let mut s = Session::new(Format::Ndjson, l).unwrap();
    s.feed(b"1\n{\"a\":\n[2]\n\n  \n\"x\"\n");
    let step = s.step(true, NEVER).unwrap();
    let t = step.tape.unwrap();
    assert_eq!((t.rows, step.skipped, step.done), (3, 1, true));
}

#[test]
fn json_keeps_what_json_parse_keeps() {
    let input = r#" {"__proto__": -0, "a": [1e400, "\ud800x", "é\n"], "a": 5, "b": {}} "#;
    let (rows, err) = run(Format::Json, limits(), input.as_bytes(), 7);
    assert!(err.is_none(), "{err:?}");
    // The lone surrogate renders as U+FFFD here; on the tape it is a lone unit.
    assert_eq!(
        rows,
        [concat!(
            "{-0 [inf \"\u{fffd}x\" ",
            r#""é\n" ] 5 {}[] }["__proto__", "a", "a", "b"]"#
        )]
    );
    let (_, err) = run(Format::Json, limits(), b"[1,\n 2,]", 3);
    let err = err.unwrap();
    assert_eq!(
        (err.line, err.column, err.offset),
        (2, 4, 7),
        "{}",
        err.message
    );
}

#[test]
fn batches_hold_batch_rows() {
    // An empty input ends at once with one empty batch.
    let mut s = Session::new(Format::Ndjson, l_with_rows(2)).unwrap();
    let step = s.step(true, NEVER).unwrap();
    assert_eq!((step.done, step.tape.map(|t| t.rows)), (true, Some(0)));
    let mut s = Session::new(Format::Ndjson, l_with_rows(2)).unwrap();
    s.feed(b"1\n2\n3\n4\n5");
    let mut got = Vec::new();
    loop {
        let step = s.step(true, NEVER).unwrap();
        got.push(step.tape.map_or(0, |t| t.rows));
        if step.done {
            break;
        }
    }
    assert_eq!(got, [2, 2, 1]);
}

fn l_with_rows(n: u64) -> Limits {
    Limits {
        batch_rows: Some(n),
        ..limits()
    }
}
