//! `dash-auth-passwd [-B|-5|-6] [-C cost] USER SECTIONS`
//!
//! Reads a password from the first line of standard input and prints a
//! users-file line, `USER:HASH:SECTIONS`, like `htpasswd -n` does.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use dash_auth_core::hash::{self, Scheme, BCRYPT_MAX_PASSWORD_LEN};
use dash_auth_core::users::{parse_sections, valid_user_name};
use zeroize::Zeroizing;

const USAGE: &str = "\
usage: dash-auth-passwd [-B|-5|-6] [-C cost] USER SECTIONS

Reads the password from the first line of standard input and prints
USER:HASH:SECTIONS for the ngx-dash-auth users file.

  -B        bcrypt, $2y$ like htpasswd -B (default)
  -5        SHA-256 crypt ($5$)
  -6        SHA-512 crypt ($6$)
  -C cost   bcrypt cost, 4 to 31 (default 10), or SHA-crypt rounds,
            1000 to 999999999 (default 5000)

SECTIONS is a comma-separated list of section names, or _all_.

example: printf '%s\\n' 1234 | dash-auth-passwd mica _all_
";

struct Args {
    scheme: Scheme,
    cost: Option<u32>,
    user: String,
    sections: String,
}

/// A usage error (exit 2, usage printed) or a failure (exit 1).
enum Error {
    Usage(String),
    Failure(String),
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut scheme = Scheme::Bcrypt;
    let mut cost = None;
    let mut positional = Vec::new();
    let mut options_done = false;
    while let Some(arg) = args.next() {
        if options_done || !arg.starts_with('-') || arg == "-" {
            positional.push(arg);
            continue;
        }
        match arg.as_str() {
            "--" => options_done = true,
            "-B" => scheme = Scheme::Bcrypt,
            "-5" => scheme = Scheme::ShaCrypt256,
            "-6" => scheme = Scheme::ShaCrypt512,
            "-C" => {
                let value = args.next().ok_or("option -C needs a value")?;
                cost = Some(parse_cost(&value)?);
            }
            a => match a.strip_prefix("-C") {
                Some(value) => cost = Some(parse_cost(value)?),
                None => return Err(format!("unknown option \"{arg}\"")),
            },
        }
    }
    let [user, sections]: [String; 2] = positional
        .try_into()
        .map_err(|_| "expected USER and SECTIONS".to_owned())?;
    Ok(Args {
        scheme,
        cost,
        user,
        sections,
    })
}

fn parse_cost(value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("invalid cost \"{value}\""))
}

fn run() -> Result<(), Error> {
    let args = parse_args(std::env::args().skip(1)).map_err(Error::Usage)?;
    generate_line(args).map_err(Error::Failure)
}

fn generate_line(args: Args) -> Result<(), String> {
    if !valid_user_name(&args.user) {
        return Err(format!(
            "invalid user name \"{}\": it must be non-empty and contain no \":\", whitespace or control characters",
            args.user.escape_debug()
        ));
    }
    let sections = parse_sections(&args.sections).map_err(|e| e.to_string())?;

    let mut line = Zeroizing::new(Vec::new());
    std::io::stdin()
        .lock()
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.is_empty() {
        return Err("empty password".to_owned());
    }
    if args.scheme == Scheme::Bcrypt && line.len() > BCRYPT_MAX_PASSWORD_LEN {
        eprintln!(
            "dash-auth-passwd: warning: bcrypt uses only the first {BCRYPT_MAX_PASSWORD_LEN} bytes of the password"
        );
    }

    let cost = args.cost.unwrap_or(args.scheme.default_cost());
    let hash = hash::generate(args.scheme, &line, cost).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}:{}:{}", args.user, hash, sections.join(","))
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(e)) => {
            eprintln!("dash-auth-passwd: {e}");
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
        Err(Error::Failure(e)) => {
            eprintln!("dash-auth-passwd: {e}");
            ExitCode::FAILURE
        }
    }
}
