//! Exports people open outside the API: a session's attendance sheet in a French spreadsheet,
//! the sessions calendar in calendar applications, the catalogue in LHÉO.

use anct_formations::auth::Scope;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::fixtures::{session_body, World, ACV, PVD};
use crate::support::TestApp;

fn id_of(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

#[tokio::test]
async fn the_attendance_sheet_opens_in_a_french_spreadsheet() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let chateau = app.commune("Château-Thierry", "02168", PVD).await;
    let session = app.session(&world.training, 2, false).await;
    let zoe = app
        .post_json(
            "/api/v1/chefs_de_projet",
            &json!({"first_name": "Zoé", "last_name": "Ångström", "email": "zoe@chateau-thierry.fr",
                    "collectivite_id": chateau["id"], "programmes": [PVD]}),
        )
        .await
        .assert_json(201);
    let formula = app
        .post_json(
            "/api/v1/chefs_de_projet",
            &json!({"first_name": "Éric", "last_name": "=Dupont", "email": "eric@chateau-thierry.fr",
                    "collectivite_id": chateau["id"], "programmes": [PVD]}),
        )
        .await
        .assert_json(201);
    app.enrol(&session, &world.chef).await;
    app.enrol(&session, &zoe).await;
    let waitlisted = app.enrol(&session, &formula).await;
    assert_eq!(waitlisted["status"], "waitlisted");

    let path = format!("/api/v1/sessions/{}/attendance-sheet", id_of(&session));
    let reply = app.get(&path).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.content_type(), "text/csv; charset=utf-8");
    let disposition = reply.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"emargement-PVD-01-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = &reply.text;
    assert!(text.starts_with('\u{feff}'), "UTF-8 byte-order mark");
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "Nom",
            "Prénom",
            "Courriel",
            "Collectivité",
            "Statut",
            "Signature"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec![
                "Martin",
                "Camille",
                "camille.martin@mairie-ablis.fr",
                "Ablis",
                "Inscrit·e",
                ""
            ],
            vec![
                "Ångström",
                "Zoé",
                "zoe@chateau-thierry.fr",
                "Château-Thierry",
                "Inscrit·e",
                ""
            ],
        ]
        .map(|r| r.into_iter().map(String::from).collect::<Vec<_>>()),
        "confirmed only, by name (Unicode order puts Å after M), no waitlisted"
    );

    // The waitlisted chef takes a seat: the formula-looking name is made inert.
    let martin = app
        .get(&format!(
            "/api/v1/enrolments?session_id={}&chef_de_projet_id={}",
            id_of(&session),
            id_of(&world.chef)
        ))
        .await
        .assert_json(200);
    app.transition(
        &martin["data"][0],
        "cancel",
        json!({"reason": "indisponible"}),
    )
    .await
    .assert_json(200);
    let text = app.get(&path).await.text;
    assert!(text.contains("\r\n'=Dupont;Éric;"), "{text}");
    assert!(!text.contains("Camille"));

    // Personal data: people:read is needed besides enrolments:read.
    let token = app.token_for(&[Scope::EnrolmentsRead], &[]).await;
    app.send(app.with_token(Method::GET, &path, &token))
        .await
        .assert_problem(403, "insufficient_scope");
    // A partner restricted to ACV does not see this PVD session.
    let acv = app
        .token_for(&[Scope::EnrolmentsRead, Scope::PeopleRead], &[ACV])
        .await;
    app.send(app.with_token(Method::GET, &path, &acv))
        .await
        .assert_problem(404, "not_found");
}

/// The calendar's lines, unfolded (RFC 5545 §3.1).
fn unfold(text: &str) -> Vec<String> {
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The events' properties.
fn events(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut events = Vec::new();
    let mut current = None;
    for line in unfold(text) {
        match line.as_str() {
            "BEGIN:VEVENT" => current = Some(std::collections::HashMap::new()),
            "END:VEVENT" => events.push(current.take().unwrap()),
            _ => {
                if let (Some(event), Some((key, value))) = (current.as_mut(), line.split_once(':'))
                {
                    event.insert(key.to_string(), value.to_string());
                }
            }
        }
    }
    events
}

#[tokio::test]
async fn calendar_apps_subscribe_to_sessions_by_programme_and_region() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    let open_to_all = app.training("ALL-01", &[], "published").await;
    let acv_only = app.training("ACV-01", &[ACV], "published").await;
    let draft = app.training("PVD-02", &[PVD], "draft").await;
    let rennes = app.session(&world.training, 10, false).await;
    let mut remote = session_body(&open_to_all, 10, false);
    remote["remote"] = json!(true);
    remote["location"] = Value::Null;
    let remote = app.post_json("/api/v1/sessions", &remote).await;
    let remote = remote.assert_json(201);
    let acv = app.session(&acv_only, 10, false).await;
    app.session(&draft, 10, false).await;
    let cancelled = app.session(&world.training, 10, false).await;
    app.post_json(
        &format!("/api/v1/sessions/{}/cancel", id_of(&cancelled)),
        &json!({"reason": "formateur indisponible"}),
    )
    .await
    .assert_json(200);

    // No token: calendar applications cannot send one.
    let reply = app
        .send(app.anonymous(Method::GET, "/api/v1/calendar/sessions.ics"))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.content_type(), "text/calendar; charset=utf-8");
    let text = &reply.text;
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(
        text.split("\r\n").all(|l| l.len() <= 75),
        "folded at 75 octets"
    );
    let all = events(text);
    let uid = |s: &Value| format!("{}@anct-formations", id_of(s));
    let uids: Vec<&str> = all.iter().map(|e| e["UID"].as_str()).collect();
    for session in [&rennes, &remote, &acv, &cancelled] {
        assert!(uids.contains(&uid(session).as_str()), "{uids:?}");
    }
    assert_eq!(
        all.len(),
        4,
        "the draft training's session is not published"
    );
    let event = all.iter().find(|e| e["UID"] == uid(&rennes)).unwrap();
    assert_eq!(event["SUMMARY"], "Formation PVD-01");
    assert_eq!(event["LOCATION"], "CNFPT Bretagne\\, Rennes");
    assert_eq!(event["STATUS"], "CONFIRMED");
    assert_eq!(event["SEQUENCE"], rennes["version"].to_string());
    let starts: chrono::DateTime<chrono::Utc> =
        rennes["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        event["DTSTART"],
        starts.format("%Y%m%dT%H%M%SZ").to_string()
    );
    assert!(event["DESCRIPTION"].contains("Places restantes : 10"));
    let event = all.iter().find(|e| e["UID"] == uid(&cancelled)).unwrap();
    assert_eq!(event["STATUS"], "CANCELLED");
    let event = all.iter().find(|e| e["UID"] == uid(&remote)).unwrap();
    assert_eq!(event["LOCATION"], "À distance");

    // Per programme: its trainings and those open to all; per region.
    let pvd = app
        .send(app.anonymous(
            Method::GET,
            &format!("/api/v1/calendar/sessions.ics?programme={PVD}"),
        ))
        .await;
    let uids: Vec<String> = events(&pvd.text)
        .into_iter()
        .map(|e| e["UID"].clone())
        .collect();
    assert_eq!(uids.len(), 3, "{uids:?}");
    assert!(!uids.contains(&uid(&acv)));
    let brittany = app
        .send(app.anonymous(Method::GET, "/api/v1/calendar/sessions.ics?region=53"))
        .await;
    assert_eq!(
        events(&brittany.text).len(),
        3,
        "Rennes, ACV (Rennes) and cancelled"
    );
    let both = app
        .send(app.anonymous(
            Method::GET,
            &format!("/api/v1/calendar/sessions.ics?programme={PVD}&region=53"),
        ))
        .await;
    let only: Vec<String> = events(&both.text)
        .into_iter()
        .map(|e| e["UID"].clone())
        .collect();
    assert_eq!(only, [uid(&rennes), uid(&cancelled)]);

    // Conditional requests save calendar apps the download.
    let tag = reply.header("etag").unwrap().to_string();
    let again = app
        .send(
            app.anonymous(Method::GET, "/api/v1/calendar/sessions.ics")
                .header("if-none-match", &tag),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    app.patch_json(
        &format!("/api/v1/trainings/{}", id_of(&world.training)),
        &json!({"title": "Piloter la revitalisation"}),
    )
    .await
    .assert_json(200);
    let changed = app
        .send(
            app.anonymous(Method::GET, "/api/v1/calendar/sessions.ics")
                .header("if-none-match", &tag),
        )
        .await;
    assert_eq!(changed.status.as_u16(), 200);
    assert!(changed.text.contains("SUMMARY:Piloter la revitalisation"));

    // Bad parameters are clear errors.
    let unknown = app
        .send(app.anonymous(
            Method::GET,
            "/api/v1/calendar/sessions.ics?programme=villages-d-hier",
        ))
        .await;
    let problem = unknown.assert_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "programme");
    app.send(app.anonymous(Method::GET, "/api/v1/calendar/sessions.ics?colour=red"))
        .await
        .assert_problem(400, "invalid_query_parameter");
}

/// An element of the LHÉO 2.3 structure: its children, in order, with their cardinalities, as
/// the standard's documentation gives them (http://lheo.gouv.fr/2.3, one page per element).
const N: usize = usize::MAX;
/// A child in an element's sequence: name, minimum, maximum occurrences.
type Child = (&'static str, usize, usize);
const LHEO_STRUCTURE: &[(&str, &[Child])] = &[
    ("lheo", &[("offres", 1, 1), ("extras", 0, N)]),
    ("offres", &[("formation", 1, N), ("extras", 0, N)]),
    (
        "formation",
        &[
            ("domaine-formation", 1, 1),
            ("intitule-formation", 1, 1),
            ("objectif-formation", 1, 1),
            ("resultats-attendus", 1, 1),
            ("contenu-formation", 1, 1),
            ("certifiante", 1, 1),
            ("contact-formation", 1, 1),
            ("parcours-de-formation", 1, 1),
            ("code-niveau-entree", 1, 1),
            ("objectif-general-formation", 0, 1),
            ("certification", 0, 5),
            ("code-niveau-sortie", 0, 1),
            ("url-formation", 0, 1),
            ("action", 1, N),
            ("organisme-formation-responsable", 1, 1),
            ("identifiant-module", 0, 1),
            ("positionnement", 0, 1),
            ("sous-modules", 0, 1),
            ("modules-prerequis", 0, 1),
            ("extras", 0, N),
        ],
    ),
    (
        "domaine-formation",
        &[
            ("code-FORMACODE", 0, 5),
            ("code-NSF", 0, 3),
            ("code-ROME", 0, 5),
            ("extras", 0, N),
        ],
    ),
    (
        "contact-formation",
        &[("coordonnees", 1, 1), ("extras", 0, N)],
    ),
    (
        "lieu-de-formation",
        &[("coordonnees", 1, 1), ("extras", 0, N)],
    ),
    (
        "coordonnees-organisme",
        &[("coordonnees", 1, 1), ("extras", 0, N)],
    ),
    (
        "contact-organisme",
        &[("coordonnees", 1, 1), ("extras", 0, N)],
    ),
    (
        "coordonnees",
        &[
            ("civilite", 0, 1),
            ("nom", 0, 1),
            ("prenom", 0, 1),
            ("ligne", 0, 3),
            ("adresse", 0, 1),
            ("telfixe", 0, 1),
            ("portable", 0, 1),
            ("fax", 0, 1),
            ("courriel", 0, 1),
            ("web", 0, 1),
            ("extras", 0, N),
        ],
    ),
    (
        "action",
        &[
            ("rythme-formation", 1, 1),
            ("code-public-vise", 1, 10),
            ("info-public-vise", 0, 1),
            ("niveau-entree-obligatoire", 1, 1),
            ("modalites-alternance", 1, 1),
            ("modalites-enseignement", 1, 1),
            ("conditions-specifiques", 1, 1),
            ("prise-en-charge-frais-possible", 1, 1),
            ("lieu-de-formation", 1, 1),
            ("modalites-entrees-sorties", 1, 1),
            ("url-action", 0, 1),
            ("session", 1, N),
            ("adresse-information", 0, 1),
            ("date-information", 0, 3),
            ("restauration", 0, 1),
            ("hebergement", 0, 1),
            ("transport", 0, 1),
            ("acces-handicapes", 0, 1),
            ("langue-formation", 0, 1),
            ("modalites-recrutement", 0, 1),
            ("modalites-pedagogiques", 0, 1),
            ("code-modalite-pedagogique", 0, 5),
            ("frais-restants", 0, 1),
            ("code-perimetre-recrutement", 0, 1),
            ("infos-perimetre-recrutement", 0, 1),
            ("prix-horaire-TTC", 0, 1),
            ("prix-total-TTC", 0, 1),
            ("duree-indicative", 0, 1),
            ("nombre-heures-centre", 0, 1),
            ("nombre-heures-entreprise", 0, 1),
            ("nombre-heures-total", 0, 1),
            ("detail-conditions-prise-en-charge", 0, 1),
            ("conventionnement", 0, 1),
            ("duree-conventionnee", 0, 1),
            ("organisme-formateur", 0, 1),
            ("organisme-financeur", 0, 8),
            ("extras", 0, N),
        ],
    ),
    (
        "session",
        &[
            ("periode", 1, 1),
            ("adresse-inscription", 1, 1),
            ("modalites-inscription", 0, 1),
            ("periode-inscription", 0, 1),
            ("etat-recrutement", 0, 1),
            ("extras", 0, N),
        ],
    ),
    (
        "periode",
        &[("debut", 1, 1), ("fin", 1, 1), ("extras", 0, N)],
    ),
    ("periode-inscription", &[("periode", 1, 1)]),
    (
        "adresse-inscription",
        &[("adresse", 1, 1), ("extras", 0, N)],
    ),
    (
        "adresse",
        &[
            ("ligne", 1, 4),
            ("codepostal", 1, 1),
            ("ville", 1, 1),
            ("departement", 0, 1),
            ("code-INSEE-commune", 0, 1),
            ("code-INSEE-canton", 0, 1),
            ("region", 0, 1),
            ("pays", 0, 1),
            ("geolocalisation", 0, 1),
            ("extras", 0, N),
        ],
    ),
    (
        "organisme-formation-responsable",
        &[
            ("numero-activite", 1, 1),
            ("SIRET-organisme-formation", 1, 1),
            ("nom-organisme", 1, 1),
            ("raison-sociale", 1, 1),
            ("coordonnees-organisme", 1, 1),
            ("contact-organisme", 1, 1),
            ("renseignements-specifiques", 0, 1),
            ("potentiel", 0, 1),
            ("extras", 0, N),
        ],
    ),
    (
        "SIRET-organisme-formation",
        &[("SIRET", 1, 1), ("extras", 0, N)],
    ),
];

/// Leaf types: (element, rule) from the same documentation.
fn leaf_is_valid(name: &str, text: &str) -> bool {
    let chars = text.chars().count();
    let digits = |n: usize| chars == n && text.chars().all(|c| c.is_ascii_digit());
    let one_of = |values: &[&str]| values.contains(&text);
    match name {
        "intitule-formation" => (1..=255).contains(&chars),
        "objectif-formation"
        | "resultats-attendus"
        | "contenu-formation"
        | "rythme-formation"
        | "info-public-vise"
        | "modalites-alternance"
        | "conditions-specifiques" => (1..=3000).contains(&chars),
        "ligne" | "ville" => (1..=50).contains(&chars),
        "codepostal" | "code-public-vise" => chars == 5,
        "numero-activite" => chars == 11,
        "SIRET" => digits(14),
        "debut" | "fin" => digits(8),
        "nombre-heures-total" => text.parse::<u32>().is_ok_and(|h| h <= 99_999),
        "certifiante" | "niveau-entree-obligatoire" | "prise-en-charge-frais-possible" => {
            one_of(&["0", "1"])
        }
        "parcours-de-formation" => one_of(&["1", "2", "3", "4"]),
        "code-niveau-entree" => one_of(&["0", "1", "2", "3", "4", "5", "6", "7", "8"]),
        "modalites-enseignement" => one_of(&["0", "1", "2"]),
        "modalites-entrees-sorties" => one_of(&["0", "1"]),
        "etat-recrutement" => one_of(&["1", "2", "3"]),
        _ => chars >= 1,
    }
}

/// Checks `node` and its descendants against the structure; returns each violation.
fn violations(node: roxmltree::Node, problems: &mut Vec<String>) {
    let name = node.tag_name().name();
    let children: Vec<roxmltree::Node> = node.children().filter(|c| c.is_element()).collect();
    for child in &children {
        if child.tag_name().namespace() != Some("http://lheo.gouv.fr/2.3") {
            problems.push(format!(
                "{} is outside the LHÉO namespace",
                child.tag_name().name()
            ));
        }
    }
    match LHEO_STRUCTURE.iter().find(|(element, _)| *element == name) {
        Some((_, sequence)) => {
            let mut position = 0;
            let mut count = 0;
            for child in &children {
                let child_name = child.tag_name().name();
                loop {
                    let Some((expected, min, max)) = sequence.get(position) else {
                        problems.push(format!("<{child_name}> not allowed here in <{name}>"));
                        break;
                    };
                    if *expected == child_name {
                        count += 1;
                        if count > *max {
                            problems.push(format!("too many <{child_name}> in <{name}>"));
                        }
                        break;
                    }
                    if count < *min {
                        problems.push(format!("<{name}> lacks <{expected}>"));
                    }
                    position += 1;
                    count = 0;
                }
                violations(*child, problems);
            }
            for (index, (expected, min, _)) in sequence.iter().enumerate().skip(position) {
                let seen = if index == position { count } else { 0 };
                if seen < *min {
                    problems.push(format!("<{name}> lacks <{expected}>"));
                }
            }
        }
        None => {
            if !children.is_empty() {
                problems.push(format!("<{name}> is a value and has children"));
            }
            let text = node.text().unwrap_or_default();
            if !leaf_is_valid(name, text) {
                problems.push(format!("<{name}>{text}</{name}> is not a valid value"));
            }
        }
    }
}

#[tokio::test]
async fn the_catalogue_is_valid_lheo() {
    let app = TestApp::spawn().await;
    // No training with sessions to come: LHÉO has no empty catalogue.
    let reply = app.get("/api/v1/catalogue/lheo").await;
    assert_eq!(reply.status.as_u16(), 204);

    let world = World::new(&app).await;
    let hybrid = app
        .post_json(
            "/api/v1/trainings",
            &json!({"code": "ALL-02", "title": "Conduire une concertation & co-construire <le> projet",
                    "summary": "Méthodes, outils, retours d'expérience.",
                    "objectives": "Savoir organiser une concertation citoyenne.",
                    "duration_hours": 10.5, "modality": "hybrid", "status": "published"}),
        )
        .await
        .assert_json(201);
    let draft = app.training("PVD-03", &[PVD], "draft").await;
    let without_sessions = app.training("PVD-04", &[PVD], "published").await;
    let first = app.session(&world.training, 12, false).await;
    let second = app.session(&world.training, 1, false).await;
    app.enrol(&second, &world.chef).await;
    let mut remote = session_body(&hybrid, 20, true);
    remote["remote"] = json!(true);
    remote["location"] = Value::Null;
    let remote = app
        .post_json("/api/v1/sessions", &remote)
        .await
        .assert_json(201);
    app.session(&draft, 10, false).await;

    let reply = app.get("/api/v1/catalogue/lheo").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.content_type(), "application/xml; charset=utf-8");
    let document = roxmltree::Document::parse(&reply.text).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "lheo");
    assert_eq!(root.tag_name().namespace(), Some("http://lheo.gouv.fr/2.3"));
    let mut problems = Vec::new();
    violations(root, &mut problems);
    assert!(problems.is_empty(), "{problems:#?}\n{}", reply.text);

    // The content: published trainings with sessions, each session once.
    let formations: Vec<roxmltree::Node> = root
        .descendants()
        .filter(|n| n.has_tag_name("formation"))
        .collect();
    let codes: Vec<&str> = formations
        .iter()
        .map(|f| f.attribute("numero").unwrap())
        .collect();
    assert_eq!(
        codes,
        ["ALL-02", "PVD-01"],
        "no draft, none without sessions"
    );
    assert!(!reply
        .text
        .contains(without_sessions["code"].as_str().unwrap()));
    let text_of = |node: &roxmltree::Node, name: &str| {
        node.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        text_of(&formations[0], "intitule-formation"),
        "Conduire une concertation & co-construire <le> projet"
    );
    assert_eq!(text_of(&formations[0], "modalites-enseignement"), "2");
    assert_eq!(text_of(&formations[0], "nombre-heures-total"), "11");
    let actions: Vec<roxmltree::Node> = formations[1]
        .children()
        .filter(|n| n.has_tag_name("action"))
        .collect();
    let numbers: Vec<&str> = actions
        .iter()
        .map(|a| a.attribute("numero").unwrap())
        .collect();
    assert_eq!(numbers.len(), 2);
    assert!(numbers.contains(&id_of(&first)) && numbers.contains(&id_of(&second)));
    let state = |session: &Value| {
        let action = actions
            .iter()
            .find(|a| a.attribute("numero") == Some(id_of(session)))
            .unwrap();
        text_of(action, "etat-recrutement")
    };
    assert_eq!(state(&first), "1", "open: window open, seats left");
    assert_eq!(state(&second), "2", "full");
    let starts: chrono::DateTime<chrono::Utc> =
        first["starts_at"].as_str().unwrap().parse().unwrap();
    assert!(actions
        .iter()
        .any(|a| text_of(a, "debut") == starts.format("%Y%m%d").to_string()));
    assert!(reply.text.contains(id_of(&remote)));
    assert_eq!(text_of(&formations[1], "SIRET"), "00000000000000");
    assert_eq!(text_of(&formations[1], "nom-organisme"), "CNFPT");

    // A partner restricted to ACV sees the trainings open to all only; a scope is needed.
    let acv = app.token_for(&[Scope::TrainingsRead], &[ACV]).await;
    let reply = app
        .send(app.with_token(Method::GET, "/api/v1/catalogue/lheo", &acv))
        .await;
    assert!(reply.text.contains("numero=\"ALL-02\"") && !reply.text.contains("PVD-01"));
    let none = app.token_for(&[Scope::EnrolmentsRead], &[]).await;
    app.send(app.with_token(Method::GET, "/api/v1/catalogue/lheo", &none))
        .await
        .assert_problem(403, "insufficient_scope");
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_the_queues() {
    let app = TestApp::spawn().await;
    let world = World::new(&app).await;
    app.get(&format!("/api/v1/trainings/{}", id_of(&world.training)))
        .await
        .assert_json(200);
    app.get("/api/v1/trainings/0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01")
        .await
        .assert_problem(404, "not_found");
    app.get("/nowhere").await.assert_problem(404, "not_found");

    let reply = app.send(app.anonymous(Method::GET, "/metrics")).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert!(reply
        .content_type()
        .starts_with("text/plain; version=0.0.4"));
    let text = &reply.text;
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(
        value(r#"http_requests_total{method="GET",route="/api/v1/trainings/{id}",status="200"} "#),
        1.0
    );
    assert_eq!(
        value(r#"http_requests_total{method="GET",route="/api/v1/trainings/{id}",status="404"} "#),
        1.0
    );
    assert_eq!(
        value(r#"http_requests_total{method="GET",route="unmatched",status="404"} "#),
        1.0
    );
    assert!(
        value(r#"http_requests_total{method="POST",route="/api/v1/trainings",status="201"} "#)
            >= 1.0
    );
    assert_eq!(
        value(
            r#"http_request_duration_seconds_count{method="GET",route="/api/v1/trainings/{id}",status="200"} "#
        ),
        1.0
    );
    assert!(text.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/api/v1/trainings/{id}",status="200",le="0.005"}"#));
    assert_eq!(value("anct_db_pool_max_size "), 4.0);
    assert!(value("anct_db_pool_size ") >= 1.0);
    assert_eq!(value("anct_database_up "), 1.0);
    assert!(value("anct_feed_head_position ") >= 5.0);
    assert_eq!(value("anct_webhook_deliveries_pending "), 0.0);

    // A webhook whose receiver is unreachable shows in the backlog.
    app.endpoint_without_checks("http://127.0.0.1:9/unreachable")
        .await;
    let mut pending = 0.0;
    for _ in 0..100 {
        let text = app.send(app.anonymous(Method::GET, "/metrics")).await.text;
        pending = text
            .lines()
            .find_map(|l| l.strip_prefix("anct_webhook_deliveries_pending "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
        if pending > 0.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(pending >= 5.0, "every change so far is waiting: {pending}");
}
