use super::*;
use crate::shared_table::tests::zone;

const L: Limit = Limit {
    max_failures: 3,
    window: 60,
    cooldown: 120,
};

fn settings(password: Option<&[u8]>) -> Settings {
    Settings {
        name: "127.0.0.1:6379".into(),
        prefix: "p:".into(),
        password: password.map(|p| Zeroizing::new(p.to_vec())),
        timeout_ms: 1000,
        horizon: 3600,
    }
}

/// The commands in the client's output, which it then forgets.
fn commands(c: &mut Client) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let buf = c.output().to_vec();
    let mut at = 0;
    while let Some((v, n)) = resp::parse(&buf[at..]).unwrap() {
        at += n;
        let Value::Array(Some(args)) = v else {
            panic!("not a command")
        };
        out.push(
            args.iter()
                .map(|a| String::from_utf8(bulk(a).unwrap().to_vec()).unwrap())
                .collect(),
        );
    }
    assert_eq!(at, buf.len());
    c.consumed(buf.len());
    out
}

fn names(cmds: &[Vec<String>]) -> Vec<&str> {
    cmds.iter().map(|c| c[0].as_str()).collect()
}

/// A ZSCAN reply: the cursor, then `items`, an array in RESP.
fn scan(cursor: &str, items: &[u8]) -> Vec<u8> {
    [
        format!("*2\r\n${}\r\n{cursor}\r\n", cursor.len()).as_bytes(),
        items,
    ]
    .concat()
}

/// A client connected at t=0 whose load returned `load` (RESP bytes).
fn up(load: &[u8]) -> (Client, Vec<Merge>) {
    let mut c = Client::new(settings(None));
    assert_eq!(c.tick(0, 10_000, vec![]).0, Action::Connect);
    c.connected(0, 10_000);
    let cmds = commands(&mut c);
    assert_eq!(names(&cmds), ["XREVRANGE", "ZSCAN"]);
    assert_eq!(cmds[1][1..], ["p:revoked", "0", "COUNT", "1000"]);
    let r = c.received(&[b"*0\r\n".as_slice(), &scan("0", load)].concat(), 1);
    assert!(!r.close, "{:?}", r.log);
    (c, r.merges)
}

#[test]
fn directive() {
    let d = parse_directive(&["127.0.0.1:6380", "prefix=app1:", "timeout=500ms"]).unwrap();
    assert_eq!((d.host.as_str(), d.port), ("127.0.0.1", 6380));
    assert_eq!(d.prefix, "app1:");
    assert_eq!(d.timeout.as_deref(), Some("500ms"));
    let d = parse_directive(&["redis.internal", "password_file=/etc/r"]).unwrap();
    assert_eq!(
        (d.host.as_str(), d.port, d.prefix.as_str()),
        ("redis.internal", 6379, "dash_auth:")
    );
    assert_eq!(d.password_file.as_deref(), Some("/etc/r"));
    let d = parse_directive(&["[::1]:7000"]).unwrap();
    assert_eq!((d.host.as_str(), d.port), ("::1", 7000));
    assert_eq!(parse_directive(&["[::1]"]).unwrap().port, 6379);
    for bad in [
        &["h:0"][..],
        &["h:70000"],
        &["h:"],
        &["h:x"],
        &[":6379"],
        &["unix:/tmp/s"],
        &["a b"],
        &["[::1"],
        &["[::1]x"],
        &[],
        &["h", "prefix="],
        &["h", "prefix=a b"],
        &["h", "colour=red"],
        &["h", "timeout="],
        &["h", "tls"],
        &["h", "tls_trusted_certificate=ca.pem"],
        &["h", "tls_name=x"],
        &["h", "tls", "tls_trusted_certificate="],
        &["h", "tls", "tls_trusted_certificate=ca.pem", "tls_name=a b"],
    ] {
        assert!(parse_directive(bad).is_err(), "{bad:?}");
    }
    assert!(parse_directive(&["h", "tls"])
        .unwrap_err()
        .to_string()
        .contains("must be verified"));
    let d = parse_directive(&[
        "redis.internal:6380",
        "tls",
        "tls_trusted_certificate=ca.pem",
    ])
    .unwrap();
    assert_eq!(
        d.tls,
        Some(TlsDirective {
            trusted_certificate: "ca.pem".into(),
            name: "redis.internal".into()
        })
    );
    let d = parse_directive(&[
        "10.0.0.5",
        "tls",
        "tls_trusted_certificate=ca.pem",
        "tls_name=redis",
    ])
    .unwrap();
    assert_eq!(d.tls.map(|t| t.name), Some("redis".into()));
    assert_eq!(parse_directive(&["h"]).unwrap().tls, None);
}

#[test]
fn backoff_grows_and_is_capped() {
    assert_eq!(backoff_ms(0), 100);
    assert_eq!(backoff_ms(1), 200);
    assert_eq!(backoff_ms(4), 1600);
    assert_eq!(backoff_ms(5), 3000);
    assert_eq!(backoff_ms(1000), 3000);
}

#[test]
fn keys() {
    assert_eq!(Who::User("mike".into()).key(b"p:"), b"p:fail:user:mike");
    assert_eq!(
        Who::Address(b"10.0.0.1".to_vec()).key(b"p:"),
        b"p:fail:addr:10.0.0.1"
    );
    assert_eq!(
        Who::UserAt("a/b".into(), b"::1".to_vec()).key(b"p:"),
        b"p:fail:pair:::1/a/b"
    );
}

#[test]
fn start_up_authenticates_then_loads_live_cutoffs() {
    let mut c = Client::new(settings(Some(b"s3cret")));
    assert_eq!(c.tick(0, 10_000, vec![]), (Action::Connect, None));
    // Connecting: nothing more until it succeeds or times out.
    assert_eq!(c.tick(50, 10_000, vec![]).0, Action::Nothing);
    c.connected(60, 10_000);
    let cmds = commands(&mut c);
    assert_eq!(names(&cmds), ["AUTH", "XREVRANGE", "ZSCAN"]);
    assert_eq!(cmds[0][1], "s3cret");
    // The load comes in pages: a cursor other than 0 asks for the next.
    let mut bytes =
        b"+OK\r\n*1\r\n*2\r\n$3\r\n7-1\r\n*4\r\n$1\r\nu\r\n$4\r\nmike\r\n$1\r\nc\r\n$4\r\n9000\r\n"
            .to_vec();
    bytes.extend(scan("17", b"*2\r\n$4\r\nmike\r\n$4\r\n9000\r\n"));
    let r = c.received(&bytes, 70);
    assert!(!r.close && r.log.is_none());
    assert_eq!(
        r.merges,
        [Merge::Cutoff {
            user: "mike".into(),
            cutoff: 9000
        }]
    );
    assert_eq!(
        commands(&mut c),
        [vec!["ZSCAN", "p:revoked", "17", "COUNT", "1000"]]
    );
    let r = c.received(&scan("0", b"*2\r\n$3\r\nann\r\n$4\r\n9500\r\n"), 80);
    assert_eq!(
        r.merges,
        [Merge::Cutoff {
            user: "ann".into(),
            cutoff: 9500
        }]
    );
    // Then polls the stream from the newest entry at load time.
    c.tick(100, 10_000, vec![]);
    let cmds = commands(&mut c);
    assert_eq!(
        cmds,
        [vec!["XREAD", "COUNT", "1000", "STREAMS", "p:events", "7-1"]]
    );
    // One poll at a time.
    c.tick(150, 10_000, vec![]);
    assert!(commands(&mut c).is_empty());
    let r = c.received(
        b"*1\r\n*2\r\n$8\r\np:events\r\n*1\r\n*2\r\n$3\r\n8-0\r\n*4\r\n$1\r\nu\r\n$3\r\nbob\r\n$1\r\nc\r\n$5\r\n10000\r\n",
        160,
    );
    assert_eq!(
        r.merges,
        [Merge::Cutoff {
            user: "bob".into(),
            cutoff: 10_000
        }]
    );
    // Next poll after POLL_MS, from the entry just read; nil = nothing new.
    c.tick(300, 10_000, vec![]);
    assert!(commands(&mut c).is_empty());
    c.tick(360, 10_000, vec![]);
    assert_eq!(commands(&mut c)[0][5], "8-0");
    let r = c.received(b"*-1\r\n", 370);
    assert!(r.merges.is_empty() && !r.close);
}

#[test]
fn refused_password_is_an_outage() {
    let mut c = Client::new(settings(Some(b"wrong")));
    c.tick(0, 10_000, vec![]);
    c.connected(0, 10_000);
    commands(&mut c);
    let r = c.received(b"-WRONGPASS invalid username-password pair\r\n", 5);
    assert!(r.close);
    let log = r.log.unwrap();
    assert_eq!(log.level, Level::Error);
    assert!(
        log.text.contains("authentication refused: WRONGPASS"),
        "{}",
        log.text
    );
    assert!(!log.text.contains("wrong"));
}

#[test]
fn logouts_are_sent_and_replayed_after_an_outage() {
    let (mut c, _) = up(b"*0\r\n");
    let mike = Event::Revoked {
        user: "mike".into(),
        cutoff: 10_001,
    };
    c.tick(10, 10_001, vec![mike]);
    let cmds = commands(&mut c);
    // Then the poll, which was due.
    assert_eq!(
        names(&cmds),
        [
            "ZADD",
            "ZREMRANGEBYSCORE",
            "EXPIRE",
            "XADD",
            "EXPIRE",
            "XREAD"
        ]
    );
    assert_eq!(cmds[0][1..], ["p:revoked", "GT", "10001", "mike"]);
    assert_eq!(cmds[1][2..], ["-inf", "(6401"]);
    assert_eq!(cmds[2][1..], ["p:revoked", "3600"]);
    assert_eq!(
        cmds[3][1..],
        ["p:events", "MAXLEN", "~", "100000", "*", "u", "mike", "c", "10001"]
    );

    // Redis goes away: one error line, then none while it stays away.
    let log = c.failed(20, "connection reset").unwrap();
    assert_eq!(log.level, Level::Error);
    assert!(log
        .text
        .contains("redis 127.0.0.1:6379 unavailable (connection reset)"));
    let ann = Event::Revoked {
        user: "ann".into(),
        cutoff: 10_002,
    };
    assert_eq!(c.tick(30, 10_002, vec![ann]), (Action::Nothing, None));
    assert!(c.output().is_empty());
    assert_eq!(c.tick(120, 10_002, vec![]), (Action::Connect, None));
    assert_eq!(c.failed(120, "connection refused"), None);
    // Backoff: 200 ms after the second failure.
    assert_eq!(c.tick(300, 10_002, vec![]).0, Action::Nothing);
    assert_eq!(c.tick(320, 10_002, vec![]).0, Action::Connect);
    c.connected(320, 10_003);
    let cmds = commands(&mut c);
    // Both logouts replayed (in name order), then the load.
    let zadds: Vec<&str> = cmds
        .iter()
        .filter(|c| c[0] == "ZADD")
        .map(|c| c[4].as_str())
        .collect();
    assert_eq!(zadds, ["ann", "mike"]);
    assert_eq!(names(&cmds)[cmds.len() - 2..], ["XREVRANGE", "ZSCAN"]);
    // The first good reply ends the outage, with one line.
    let r = c.received(b":1\r\n", 330);
    assert_eq!(r.log.unwrap().text, "redis 127.0.0.1:6379 is back");
    let r = c.received(b":0\r\n", 331);
    assert!(r.log.is_none());
    // The next outage logs again.
    assert!(c.failed(400, "x").is_some());
}

#[test]
fn replay_forgets_what_no_token_outlives() {
    let (mut c, _) = up(b"*0\r\n");
    let old = Event::Revoked {
        user: "old".into(),
        cutoff: 10_000,
    };
    c.tick(10, 10_000, vec![old]);
    commands(&mut c);
    c.failed(20, "x");
    c.tick(200, 20_000, vec![]);
    c.connected(200, 20_000);
    assert!(!commands(&mut c).iter().any(|c| c[0] == "ZADD"));
}

#[test]
fn failures_count_across_instances() {
    let (mut c, _) = up(b"*0\r\n");
    // The first poll, answered: the next is not due before 206 ms.
    c.tick(5, 10_000, vec![]);
    commands(&mut c);
    c.received(b"*-1\r\n", 6);
    let fail = Event::Failed {
        who: Who::User("mike".into()),
        limit: L,
        at: 10_000,
    };
    c.tick(10, 10_000, vec![fail.clone()]);
    let cmds = commands(&mut c);
    assert_eq!(cmds[0], ["INCR", "p:fail:user:mike"]);
    assert_eq!(cmds[1], ["EXPIRE", "p:fail:user:mike", "60", "NX"]);
    let r = c.received(b":2\r\n:0\r\n", 12);
    assert_eq!(
        r.merges,
        [Merge::Count {
            who: Who::User("mike".into()),
            count: 2,
            limit: L
        }]
    );
    assert!(commands(&mut c).is_empty());
    // The failure that makes the count the limit tells every instance.
    c.tick(13, 10_000, vec![fail.clone()]);
    commands(&mut c);
    let r = c.received(b":3\r\n:0\r\n", 14);
    assert_eq!(r.merges.len(), 1);
    let cmds = commands(&mut c);
    assert_eq!(
        cmds[0][1..],
        [
            "p:events", "MAXLEN", "~", "100000", "*", "k", "user", "u", "mike", "a", "", "n", "3",
            "w", "60", "d", "120"
        ]
    );
    assert_eq!(cmds[1][0], "EXPIRE");
    // Past the limit, nobody says it again.
    c.tick(15, 10_000, vec![fail.clone()]);
    commands(&mut c);
    c.received(b":4\r\n:0\r\n", 16);
    assert!(commands(&mut c).is_empty());
    c.tick(
        20,
        10_000,
        vec![Event::Cleared {
            who: Who::User("mike".into()),
        }],
    );
    assert_eq!(commands(&mut c), [vec!["DEL", "p:fail:user:mike"]]);

    // While Redis is away failures wait; those past their window are dropped.
    c.failed(30, "x");
    let late = Event::Failed {
        who: Who::Address(b"10.0.0.1".to_vec()),
        limit: L,
        at: 10_050,
    };
    c.tick(40, 10_050, vec![fail, late]);
    c.tick(200, 10_070, vec![]);
    c.connected(200, 10_070);
    let incrs: Vec<String> = commands(&mut c)
        .into_iter()
        .filter(|c| c[0] == "INCR")
        .map(|c| c[1].clone())
        .collect();
    assert_eq!(incrs, ["p:fail:addr:10.0.0.1"]);
}

#[test]
fn timeouts_and_garbage_end_the_connection() {
    let (mut c, _) = up(b"*0\r\n");
    c.tick(10, 10_000, vec![]);
    assert_eq!(commands(&mut c)[0][0], "XREAD");
    assert_eq!(c.tick(900, 10_000, vec![]).0, Action::Nothing);
    let (a, log) = c.tick(1010, 10_001, vec![]);
    assert_eq!(a, Action::Close);
    assert!(log.unwrap().text.contains("reply timed out"));
    assert!(!c.is_up());

    // A connect that never completes.
    assert_eq!(c.tick(1200, 10_001, vec![]).0, Action::Connect);
    assert_eq!(c.tick(2100, 10_002, vec![]).0, Action::Nothing);
    assert_eq!(c.tick(2200, 10_002, vec![]), (Action::Close, None));

    let (mut c, _) = up(b"*0\r\n");
    let r = c.received(b":1\r\n", 5);
    assert!(r.close && r.log.unwrap().text.contains("unexpected reply"));
    let (mut c, _) = up(b"*0\r\n");
    c.tick(10, 10_000, vec![]);
    let r = c.received(b"?\r\n", 11);
    assert!(r.close);
    // A reply of the wrong shape.
    let (mut c, _) = up(b"*0\r\n");
    c.tick(10, 10_000, vec![]);
    let r = c.received(b":1\r\n", 11);
    assert!(r.close && r.log.unwrap().text.contains("XREAD"));
}

#[test]
fn blocks_from_other_instances_are_read_from_the_stream() {
    let (mut c, _) = up(b"*0\r\n");
    c.tick(10, 10_000, vec![]);
    commands(&mut c);
    let entry = |fields: &[&str]| {
        let mut s = format!("*2\r\n$3\r\n9-0\r\n*{}\r\n", fields.len());
        for f in fields {
            s += &format!("${}\r\n{f}\r\n", f.len());
        }
        s
    };
    let entries = [
        entry(&[
            "k", "pair", "u", "mike", "a", "10.0.0.1", "n", "3", "w", "60", "d", "120",
        ]),
        entry(&[
            "k", "addr", "u", "", "a", "10.0.0.2", "n", "3", "w", "60", "d", "120",
        ]),
        // Malformed ones are skipped.
        entry(&["k", "pair", "u", "mike", "n", "3", "w", "60", "d", "120"]),
        entry(&[
            "k", "user", "u", "x", "a", "", "n", "0", "w", "60", "d", "120",
        ]),
        entry(&[
            "k", "what", "u", "x", "a", "", "n", "3", "w", "60", "d", "120",
        ]),
    ];
    let reply = format!(
        "*1\r\n*2\r\n$8\r\np:events\r\n*{}\r\n{}",
        entries.len(),
        entries.concat()
    );
    let r = c.received(reply.as_bytes(), 20);
    assert!(!r.close);
    assert_eq!(
        r.merges,
        [
            Merge::Count {
                who: Who::UserAt("mike".into(), b"10.0.0.1".to_vec()),
                count: 3,
                limit: L
            },
            Merge::Count {
                who: Who::Address(b"10.0.0.2".to_vec()),
                count: 3,
                limit: L
            }
        ]
    );
}

#[test]
fn replies_may_arrive_in_pieces() {
    let mut c = Client::new(settings(None));
    c.tick(0, 10_000, vec![]);
    c.connected(0, 10_000);
    commands(&mut c);
    let all = [
        b"*0\r\n".as_slice(),
        &scan("0", b"*2\r\n$4\r\nmike\r\n$4\r\n9000\r\n"),
    ]
    .concat();
    let mut merges = Vec::new();
    for b in all.chunks(3) {
        let r = c.received(b, 1);
        assert!(!r.close);
        merges.extend(r.merges);
    }
    assert_eq!(merges.len(), 1);
}

#[test]
fn huge_scores_and_odd_members() {
    let (_, merges) = up(b"*4\r\n$4\r\nmike\r\n$6\r\n1.5e10\r\n$1\r\n\xff\r\n$1\r\n1\r\n");
    assert_eq!(
        merges,
        [Merge::Cutoff {
            user: "mike".into(),
            cutoff: 15_000_000_000
        }]
    );
}

#[test]
fn apply_writes_the_zone() {
    let rw = zone(16);
    let aw = zone(16);
    let rev = || Table::new(&rw);
    let att = || Table::new(&aw);
    let m = Merge::Cutoff {
        user: "mike".into(),
        cutoff: 1000,
    };
    assert_eq!(apply(&m, rev(), att(), 3600, 1001), None);
    assert_eq!(Revocations(rev().unwrap()).cutoff("mike"), 1000);
    let m = Merge::Count {
        who: Who::UserAt("mike".into(), b"10.0.0.1".to_vec()),
        count: 3,
        limit: L,
    };
    let log = apply(&m, rev(), att(), 3600, 1001).unwrap();
    assert_eq!(log.level, Level::Warn);
    assert!(log
        .text
        .contains("\"mike\" from client address 10.0.0.1 reached the limit"));
    let a = Attempts {
        table: att().unwrap(),
        limit: L,
    };
    assert!(a.blocked(Subject::UserAt("mike", b"10.0.0.1"), 1001));
    assert!(!a.blocked(Subject::User("mike"), 1001));
    // Without a zone there is nothing to write.
    assert!(apply(&m, None, None, 3600, 1001).is_none());
    let full = zone(1);
    let t = Table::new(&full).unwrap();
    Revocations(t).revoke("x", 1000, 3600);
    let m = Merge::Cutoff {
        user: "y".into(),
        cutoff: 1000,
    };
    assert_eq!(
        apply(&m, Table::new(&full), None, 3600, 1001)
            .unwrap()
            .level,
        Level::Error
    );
}

#[test]
fn outbox_is_off_until_enabled() {
    // Other tests run in this process: only this test's own user counts.
    let mine = |e: &Event| matches!(e, Event::Revoked { user, .. } if user == "outbox-test");
    outbox::push(|| Event::Revoked {
        user: "outbox-test".into(),
        cutoff: 1,
    });
    outbox::enable();
    assert!(!outbox::drain().iter().any(mine));
    let words = zone(16);
    let r = Revocations(Table::new(&words).unwrap());
    r.revoke("outbox-test", 1000, 3600);
    r.merge("outbox-test", 2000, 3600, 1000);
    let got: Vec<Event> = outbox::drain().into_iter().filter(mine).collect();
    assert_eq!(
        got,
        [Event::Revoked {
            user: "outbox-test".into(),
            cutoff: 1000
        }]
    );
}
