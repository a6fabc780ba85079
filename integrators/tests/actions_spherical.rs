//! The spherical action finder (`SphericalFinder`) against:
//!
//! - galpy 1.12.1's `actionAngleSpherical` tables (`tests/data/galpy_reference.h5`, groups
//!   `actions/{plummer,hernquist,dehnen,nfw}`: `xv` [1000,6], `actions`, `angles`,
//!   `frequencies` [1000,3], order (r, z, phi)). These groups carry no parameters; they were
//!   made in the potentials of the `potentials/<name>` groups (J_r recomputed from those
//!   agrees to 1e-13 with a 32-digit reference);
//! - 32-digit references (mpmath, adaptive tanh-sinh quadrature of the same integrals with
//!   galpy's angle formulas, `REFERENCE` below) for 48 of those points: all points where
//!   galpy itself is off by more than 1e-7 (its quadrature tolerance is 1.5e-8 and its
//!   pericentre tolerance 2e-12 in natural units), plus random ones;
//! - galpy's exact `actionAngleIsochrone` table and the closed forms of the isochrone
//!   (BT08 eq. 3.226): J_r = GM / sqrt(-2E) - (L + sqrt(L^2 + 4 G M b)) / 2,
//!   Omega_r = (-2E)^(3/2) / (G M), Omega_z / Omega_r = (1 + L / sqrt(L^2 + 4 G M b)) / 2;
//! - itself along orbits integrated with Yoshida's 4th-order scheme: actions constant,
//!   angles advancing as Omega t.

use std::f64::consts::{PI, TAU};
use std::sync::Arc;

use actionfinder_integrators::actions::{
    find_batch, wrap_angle, ActionAngle, ActionError, ActionFinder, Flag, SphericalFinder,
};
use actionfinder_integrators::integrate::{integrate, IntegrationOptions, Scheme, StepSize};
use actionfinder_integrators::potential::{
    Dehnen, Hernquist, Isochrone, Logarithmic, MiyamotoNagai, Nfw, Plummer, Potential,
};
use actionfinder_integrators::units::G;
use actionfinder_integrators::PhaseSpace;
use hdf5_pure::File;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

fn reference() -> File {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/galpy_reference.h5");
    File::open(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"))
}

/// f64 attribute `name` of group `group`.
fn attr(file: &File, group: &str, name: &str) -> f64 {
    let g = file.group(group).unwrap_or_else(|e| panic!("{group}: {e}"));
    let attrs = g.attrs().unwrap_or_else(|e| panic!("{group} attributes: {e}"));
    attrs
        .get(name)
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| panic!("{group}: attribute {name} missing"))
}

/// The potential of `potentials/<name>` (the actions tables were made in the same ones).
fn potential(file: &File, name: &str) -> Arc<dyn Potential> {
    let g = format!("potentials/{name}");
    let a = |p: &str| attr(file, &g, p);
    match name {
        "plummer" => Arc::new(Plummer::new(a("M"), a("a")).unwrap()),
        "hernquist" => Arc::new(Hernquist::new(a("M"), a("a")).unwrap()),
        "dehnen" => Arc::new(Dehnen::new(a("M"), a("a"), a("gamma")).unwrap()),
        "nfw" => Arc::new(Nfw::new(a("Ms"), a("a")).unwrap()),
        "isochrone" => Arc::new(Isochrone::new(a("M"), a("b")).unwrap()),
        other => panic!("no potential for {other}"),
    }
}

/// One actions table: points and galpy's actions, angles and frequencies.
struct Table {
    points: Vec<PhaseSpace>,
    actions: Vec<[f64; 3]>,
    angles: Vec<[f64; 3]>,
    frequencies: Vec<[f64; 3]>,
}

fn rows3(file: &File, path: &str) -> Vec<[f64; 3]> {
    let d = file.dataset(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let shape = d.shape().unwrap();
    assert_eq!(shape[1], 3, "{path}: expected [n,3], got {shape:?}");
    d.read_f64()
        .unwrap()
        .chunks(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

fn table(file: &File, name: &str) -> Table {
    let path = format!("actions/{name}/xv");
    let d = file.dataset(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(d.shape().unwrap()[1], 6, "{path}: expected [n,6]");
    let points = d
        .read_f64()
        .unwrap()
        .chunks(6)
        .map(|c| PhaseSpace::from_row(c.try_into().unwrap()))
        .collect();
    Table {
        points,
        actions: rows3(file, &format!("actions/{name}/actions")),
        angles: rows3(file, &format!("actions/{name}/angles")),
        frequencies: rows3(file, &format!("actions/{name}/frequencies")),
    }
}

/// |a - b| modulo 2 pi, in [0, pi].
fn angle_diff(a: f64, b: f64) -> f64 {
    (wrap_angle(a - b + PI) - PI).abs()
}

/// The largest of: relative action differences (with a floor of 1e-6 (J_r + |J_z| + |J_phi|)
/// for an action that vanishes, such as J_z in the plane), angle differences modulo 2 pi in
/// rad, relative frequency differences; and which of the nine it was.
fn difference(got: &ActionAngle, want: &[f64; 9]) -> (f64, usize) {
    let floor = 1e-6 * (want[0].abs() + want[1].abs() + want[2].abs());
    let mut worst = (0.0, 0);
    for c in 0..3 {
        let d = [
            (got.actions[c] - want[c]).abs() / want[c].abs().max(floor),
            angle_diff(got.angles[c], want[3 + c]),
            (got.frequencies[c] - want[6 + c]).abs() / want[6 + c].abs(),
        ];
        for (k, v) in d.into_iter().enumerate() {
            if v.is_nan() || v > worst.0 {
                worst = (v, 3 * k + c);
            }
        }
    }
    worst
}

const QUANTITY: [&str; 9] = [
    "J_r",
    "J_z",
    "J_phi",
    "theta_r",
    "theta_z",
    "theta_phi",
    "Omega_r",
    "Omega_z",
    "Omega_phi",
];

/// 32-digit references (J_r, J_z, J_phi, theta_r, theta_z, theta_phi, Omega_r, Omega_z,
/// Omega_phi) for points of the galpy tables: every point where galpy's own numbers are off
/// by more than 1e-7, and six random ones per table. Made with mpmath (mp.dps = 32):
/// turning points by findroot, integrals by mp.quad in r = (r_a + r_p)/2 - (r_a - r_p)/2
/// cos u, angles with galpy's formulas (actionAngleSpherical._calc_angler/_calc_anglez/
/// _calc_long_asc).
const REFERENCE: &[(&str, usize, [f64; 9])] = &[
    (
        "plummer",
        228,
        [
            1073.08963901957,
            13.75771014387805,
            1.2302873753378407,
            2.9860053725533637,
            3.862594514599061,
            1.9996161213559103,
            42.80254442036552,
            21.585202473323132,
            21.585202473323132,
        ],
    ),
    (
        "plummer",
        486,
        [
            987.6755223258028,
            16.366562756018492,
            -11.373497577820276,
            3.188589701571812,
            3.487199091824265,
            1.1678378859678984,
            49.241939693420214,
            25.008848554983924,
            -25.008848554983924,
        ],
    ),
    (
        "plummer",
        499,
        [
            85.14649309171854,
            0.0008187521662790797,
            -0.5108188953269754,
            3.1443602360196343,
            0.24296225314499262,
            1.9470743301588096,
            376.1029760967582,
            188.09257033896722,
            -188.09257033896722,
        ],
    ),
    (
        "plummer",
        577,
        [
            1126.1189882744407,
            185.83854626224388,
            23.46763983960928,
            3.021238887369838,
            4.828556226818223,
            0.6266619143673721,
            32.939886409097554,
            18.475601550680597,
            18.475601550680597,
        ],
    ),
    (
        "plummer",
        580,
        [
            738.8735731843728,
            12.934571125953752,
            6.509923388862538,
            3.09311033607341,
            3.186969958158573,
            4.613519186327951,
            80.1794266357685,
            40.514796728427086,
            40.514796728427086,
        ],
    ),
    (
        "plummer",
        622,
        [
            702.4111250623549,
            158.48536154263113,
            36.49342820010114,
            2.952223277271933,
            1.4712214247756201,
            0.775190809484227,
            71.59469001268562,
            39.641657950609066,
            39.641657950609066,
        ],
    ),
    (
        "plummer",
        628,
        [
            1057.002277287525,
            1.5706819667844543,
            -2.4577006202281897,
            3.1428400021238554,
            2.2428216442461255,
            4.4970236216052495,
            44.451045184648756,
            22.276733487622426,
            -22.276733487622426,
        ],
    ),
    (
        "plummer",
        682,
        [
            439.9205180704306,
            552.4327571833796,
            563.1109384029869,
            3.6054670973223146,
            5.82946582914152,
            5.36206612973946,
            37.076797942195,
            29.83632869714967,
            29.83632869714967,
        ],
    ),
    (
        "plummer",
        693,
        [
            401.51989328384775,
            293.5114692887376,
            -139.26136349863026,
            3.734248725145693,
            3.1148696631450044,
            4.463174278631946,
            100.72719273203461,
            61.95767321839413,
            -61.95767321839413,
        ],
    ),
    (
        "plummer",
        775,
        [
            383.84070073135405,
            47.806181635735825,
            339.38942052753873,
            3.8871559416127535,
            5.767644682335283,
            6.0761470267149225,
            111.1641727929673,
            66.91125265577165,
            66.91125265577165,
        ],
    ),
    (
        "plummer",
        877,
        [
            972.2877624210042,
            9.468803339243527,
            12.14690890474515,
            3.1599044520338118,
            0.318527220985667,
            4.785996920690138,
            50.92492427414423,
            25.774279118350538,
            25.774279118350538,
        ],
    ),
    (
        "plummer",
        895,
        [
            265.1910182189705,
            181.76990398978583,
            -86.09612589648319,
            3.2581277420935066,
            6.114781316729372,
            1.5462096670266858,
            171.04561493582938,
            96.92408278689402,
            -96.92408278689402,
        ],
    ),
    (
        "plummer",
        940,
        [
            417.0944196099042,
            2450.0220457306355,
            286.23606995333904,
            6.139608194832525,
            2.9753779167900736,
            6.225812401596398,
            5.801508977606225,
            5.696028882262616,
            5.696028882262616,
        ],
    ),
    (
        "plummer",
        997,
        [
            282.60809742552954,
            225.72063765893574,
            49.202087332357394,
            3.1375820494720026,
            0.6504504797258911,
            1.5633575504682717,
            162.5899483829233,
            92.50148517435822,
            92.50148517435822,
        ],
    ),
    (
        "hernquist",
        5,
        [
            366.57532331675424,
            1199.6244948785172,
            -876.3085604914955,
            3.2165984222448665,
            1.452849784992685,
            2.7676776592454355,
            28.87837131020008,
            18.6170712009789,
            -18.6170712009789,
        ],
    ),
    (
        "hernquist",
        131,
        [
            0.35451202340425814,
            112.99511988778069,
            -1729.0672847985236,
            3.2961747911631467,
            5.758593680359294,
            0.2942759387573337,
            38.082343840107576,
            24.60189664352825,
            -24.60189664352825,
        ],
    ),
    (
        "hernquist",
        498,
        [
            553.2938042315519,
            670.4191163298219,
            241.34992281951585,
            2.921868642094123,
            0.6487252351744115,
            1.1130414887705777,
            39.695660913434196,
            23.7465482306197,
            23.7465482306197,
        ],
    ),
    (
        "hernquist",
        820,
        [
            2377.912860619466,
            827.8544551083529,
            67.22071240015312,
            4.213484067482003,
            0.6189766564309251,
            4.834158948820988,
            17.203266673310395,
            9.865087184077852,
            9.865087184077852,
        ],
    ),
    (
        "hernquist",
        869,
        [
            1348.4056785590583,
            310.2431638874108,
            -12.607501310147686,
            2.675548674931894,
            6.021551673366387,
            2.998698461047363,
            30.811991669425083,
            16.738811269124735,
            -16.738811269124735,
        ],
    ),
    (
        "hernquist",
        908,
        [
            308.7738004789991,
            485.8196790394377,
            1533.4574312800823,
            2.4219433172422113,
            0.04330671014371825,
            5.291521151264611,
            30.26025770709499,
            19.490218217572863,
            19.490218217572863,
        ],
    ),
    (
        "dehnen",
        50,
        [
            215.92564580936374,
            2.290996245515308,
            -7.012296875768365,
            3.117706189585316,
            0.7031897147962494,
            3.4979497160797335,
            236.4389192236007,
            125.10896602306758,
            -125.10896602306758,
        ],
    ),
    (
        "dehnen",
        68,
        [
            577.2999303082405,
            19.21106774374684,
            -8.646477733784852,
            3.4167705887248756,
            2.446399542617411,
            4.4011740789175535,
            70.93213438400333,
            38.400104486450246,
            -38.400104486450246,
        ],
    ),
    (
        "dehnen",
        207,
        [
            1790.5670231989727,
            20.74855101251318,
            -135.5368091502384,
            1.0283750716781968,
            4.7621093590137855,
            6.024221662259258,
            9.20598984922954,
            5.522071967743867,
            -5.522071967743867,
        ],
    ),
    (
        "dehnen",
        254,
        [
            27.729616587260953,
            387.3226677254002,
            1053.573990076139,
            3.636422502619154,
            0.43297256866816236,
            5.220784945778294,
            26.62725330684897,
            22.379628624148243,
            22.379628624148243,
        ],
    ),
    (
        "dehnen",
        277,
        [
            1135.1275591994774,
            381.60931582989207,
            -421.5117016629827,
            0.9308502589876774,
            5.616436407260555,
            1.6739347084190173,
            11.71154362839616,
            8.866707982105945,
            -8.866707982105945,
        ],
    ),
    (
        "dehnen",
        304,
        [
            69.41893875710406,
            0.806496669641644,
            1.6083930772357853,
            3.1427208756900877,
            1.1213947690588075,
            1.453605283056081,
            652.6430179098107,
            340.5649341793177,
            340.5649341793177,
        ],
    ),
    (
        "dehnen",
        339,
        [
            560.9853719577321,
            57.51898766091525,
            -498.75464213955513,
            5.45722001187615,
            6.074579707802551,
            6.038255765079102,
            35.501110081968186,
            25.53198116945314,
            -25.53198116945314,
        ],
    ),
    (
        "dehnen",
        350,
        [
            101.10206089880808,
            0.051248555751432875,
            0.2575019849904763,
            3.138287342371036,
            4.27386986436251,
            6.225836024060575,
            487.6131412012067,
            246.72946096017546,
            246.72946096017546,
        ],
    ),
    (
        "dehnen",
        359,
        [
            479.3034147024817,
            10.264204533417262,
            -15.354704261905463,
            3.1002767366911805,
            3.4597184403097425,
            5.077444088067831,
            91.62916814966955,
            49.57981250713659,
            -49.57981250713659,
        ],
    ),
    (
        "dehnen",
        445,
        [
            246.67480949835326,
            1.781613584717698,
            228.3906108921734,
            3.516071709081351,
            1.6629027021598357,
            3.348988676627064,
            124.78779583829515,
            81.48276628340612,
            81.48276628340612,
        ],
    ),
    (
        "dehnen",
        447,
        [
            1605.7571864539068,
            55.655738153993966,
            104.02432486765271,
            3.3344798708826153,
            3.906149834024374,
            3.0989321011815907,
            11.381268900539382,
            6.849931331576922,
            6.849931331576922,
        ],
    ),
    (
        "dehnen",
        515,
        [
            35.065176202718845,
            0.14560831185928813,
            0.04511785200406118,
            3.143739827725834,
            1.0710584408475678,
            6.1912653709889085,
            1094.9433408019556,
            555.7332899426989,
            555.7332899426989,
        ],
    ),
    (
        "dehnen",
        530,
        [
            361.6179214334241,
            8.599364101002838,
            -13.725790160777187,
            3.0816542536436744,
            2.041773646380904,
            2.8199214900684315,
            130.95123755563932,
            70.81956355303328,
            -70.81956355303328,
        ],
    ),
    (
        "dehnen",
        542,
        [
            998.3671608440418,
            50.84836007041662,
            -10.195755293401103,
            3.2194508715602588,
            5.024010031627071,
            0.9176978467968392,
            29.274983437794948,
            16.390612196227856,
            -16.390612196227856,
        ],
    ),
    (
        "dehnen",
        640,
        [
            49.427218580514776,
            0.6703644819293944,
            -2.2305904054401977,
            3.0439583557658634,
            3.4801817304979497,
            6.166397975993748,
            837.2198043962054,
            442.2216221443833,
            -442.2216221443833,
        ],
    ),
    (
        "dehnen",
        710,
        [
            1042.6775069854662,
            628.2560782568211,
            467.56041005241286,
            5.292233965603846,
            5.76431069294086,
            4.639794570007045,
            9.97471146942266,
            7.966727577665609,
            7.966727577665609,
        ],
    ),
    (
        "dehnen",
        717,
        [
            1106.7160889287777,
            91.3465970078157,
            238.07155731653708,
            3.8922845146094622,
            5.710176227045971,
            1.4341321535122136,
            19.039470457418435,
            12.560255713476428,
            12.560255713476428,
        ],
    ),
    (
        "dehnen",
        766,
        [
            1683.3575113275183,
            110.09594615569806,
            195.34450939983893,
            2.1229496788752367,
            0.49612594725642,
            5.243925373237835,
            9.344742390759961,
            6.067901978483077,
            6.067901978483077,
        ],
    ),
    (
        "dehnen",
        808,
        [
            128.63928793481745,
            0.11936074223415157,
            0.099700072013298,
            3.1369816441203615,
            2.5040250927258043,
            0.44725086185317176,
            396.15084299527774,
            199.86178873633264,
            199.86178873633264,
        ],
    ),
    (
        "dehnen",
        866,
        [
            167.5089104212531,
            4.270147377530885,
            1.0335790293389842,
            3.1031776760994036,
            0.7891497863109693,
            5.535501845219885,
            306.1160244057594,
            160.1929751387608,
            160.1929751387608,
        ],
    ),
    (
        "dehnen",
        989,
        [
            128.81131110470983,
            989.4804787845559,
            -439.5001734138205,
            2.0917062088226976,
            1.8441798399514893,
            5.6680106907706085,
            23.10537808282186,
            19.378646043044785,
            -19.378646043044785,
        ],
    ),
    (
        "dehnen",
        997,
        [
            674.2594613913326,
            48.67338358984181,
            -2.5787337539332635,
            3.1908995552904593,
            3.73510023762518,
            4.324628083891386,
            55.05805787242003,
            30.689615150262682,
            -30.689615150262682,
        ],
    ),
    (
        "nfw",
        341,
        [
            286.7923441271004,
            64.83136955135913,
            1084.7871958605822,
            3.7298385499641253,
            6.115427565444978,
            4.310149484079924,
            32.728411525196854,
            19.96412382518396,
            19.96412382518396,
        ],
    ),
    (
        "nfw",
        621,
        [
            613.3905127785702,
            1389.582299834735,
            -739.2163550236958,
            0.9146446782891637,
            3.9623676437836277,
            5.853166555113273,
            20.533223019134436,
            12.914336451947374,
            -12.914336451947374,
        ],
    ),
    (
        "nfw",
        698,
        [
            288.30401319083177,
            848.8998670540179,
            -71.7743141731421,
            3.558217094504818,
            0.2326404718585788,
            2.4803480437972087,
            36.05642552765726,
            21.701014595346926,
            -21.701014595346926,
        ],
    ),
    (
        "nfw",
        790,
        [
            784.815224733951,
            8.65569749457216,
            37.40558286033298,
            3.200519046778993,
            1.324653215552217,
            2.0880082542239675,
            36.99527144670699,
            18.96741375518335,
            18.96741375518335,
        ],
    ),
    (
        "nfw",
        804,
        [
            4.567479711695132,
            0.8348252073246879,
            -1.1260123697801854,
            3.3503269766429002,
            2.064933206589187,
            1.9046138622480069,
            292.2716737361702,
            155.6759339527346,
            -155.6759339527346,
        ],
    ),
    (
        "nfw",
        990,
        [
            748.969271505418,
            2561.5774305570167,
            599.4228191393477,
            3.3258094955904043,
            5.527043540446681,
            5.851917631248262,
            15.460976567298884,
            10.017639852232344,
            10.017639852232344,
        ],
    ),
];

/// galpy's numbers for point `i` of a table, in the order of [`REFERENCE`].
fn galpy_row(t: &Table, i: usize) -> [f64; 9] {
    let (a, th, om) = (t.actions[i], t.angles[i], t.frequencies[i]);
    [a[0], a[1], a[2], th[0], th[1], th[2], om[0], om[1], om[2]]
}

/// Every point of the table agrees with galpy to `tol`, except points of [`REFERENCE`]
/// where galpy itself misses the 32-digit value by more than `tol` (checked here; our
/// agreement with those values is checked in `matches_32_digit_references`).
fn check_against_galpy(name: &str, tol: f64) {
    let file = reference();
    let finder = SphericalFinder::new(potential(&file, name)).unwrap();
    let t = table(&file, name);
    let (mut worst, mut where_, mut excused) = (0.0f64, String::new(), 0usize);
    for (i, w) in t.points.iter().enumerate() {
        let got = finder
            .action_angle(w)
            .unwrap_or_else(|e| panic!("{name} point {i}: {e}"));
        let galpy = galpy_row(&t, i);
        let (d, q) = difference(&got, &galpy);
        if d <= tol {
            if d > worst {
                worst = d;
                where_ = format!("point {i}, {}", QUANTITY[q]);
            }
            continue;
        }
        let exact = REFERENCE
            .iter()
            .find(|(n, k, _)| *n == name && *k == i)
            .unwrap_or_else(|| panic!("{name} point {i}: {} differs from galpy by {d:e}", QUANTITY[q]));
        let (galpy_error, gq) = difference(&finder_row(&galpy), &exact.2);
        assert!(
            galpy_error > tol,
            "{name} point {i}: differs from galpy by {d:e} ({}) although galpy is within {galpy_error:e} \
             ({}) of the 32-digit reference",
            QUANTITY[q],
            QUANTITY[gq]
        );
        excused += 1;
    }
    println!(
        "{name}: largest difference from galpy {worst:.2e} ({where_}); {excused} points where galpy \
         itself is off by more than {tol:e} checked against the 32-digit references instead"
    );
}

/// A row of nine numbers as an [`ActionAngle`].
fn finder_row(v: &[f64; 9]) -> ActionAngle {
    ActionAngle {
        actions: [v[0], v[1], v[2]],
        angles: [v[3], v[4], v[5]],
        frequencies: [v[6], v[7], v[8]],
    }
}

#[test]
fn plummer_matches_galpy() {
    check_against_galpy("plummer", 1e-7);
}

#[test]
fn hernquist_matches_galpy() {
    check_against_galpy("hernquist", 1e-7);
}

#[test]
fn dehnen_matches_galpy() {
    check_against_galpy("dehnen", 1e-7);
}

#[test]
fn nfw_matches_galpy() {
    check_against_galpy("nfw", 1e-7);
}

#[test]
fn matches_32_digit_references() {
    let file = reference();
    let mut worst = (0.0f64, String::new());
    for name in ["plummer", "hernquist", "dehnen", "nfw"] {
        let finder = SphericalFinder::new(potential(&file, name)).unwrap();
        let t = table(&file, name);
        for (_, i, exact) in REFERENCE.iter().filter(|(n, _, _)| *n == name) {
            let got = finder.action_angle(&t.points[*i]).unwrap();
            let (d, q) = difference(&got, exact);
            if d > worst.0 {
                worst = (d, format!("{name} point {i}, {}", QUANTITY[q]));
            }
        }
    }
    println!(
        "largest difference from the 32-digit references: {:.2e} ({})",
        worst.0, worst.1
    );
    assert!(worst.0 < 1e-10, "{:e} at {} (need < 1e-10)", worst.0, worst.1);
}

#[test]
fn isochrone_matches_galpy_exact_isochrone() {
    let file = reference();
    let finder = SphericalFinder::new(potential(&file, "isochrone")).unwrap();
    let t = table(&file, "isochrone");
    let mut worst = (0.0f64, String::new());
    for (i, w) in t.points.iter().enumerate() {
        let (d, q) = difference(&finder.action_angle(w).unwrap(), &galpy_row(&t, i));
        if d > worst.0 {
            worst = (d, format!("point {i}, {}", QUANTITY[q]));
        }
    }
    println!(
        "isochrone: largest difference from the exact values {:.2e} ({})",
        worst.0, worst.1
    );
    assert!(worst.0 < 1e-9, "{:e} at {} (need < 1e-9)", worst.0, worst.1);
}

/// Exact isochrone J_r, Omega_r, Omega_z for a point (BT08 eq. 3.226), and GM/sqrt(-2E),
/// the larger of the two terms whose difference is J_r.
fn isochrone_exact(pot: &dyn Potential, gm: f64, b: f64, w: &PhaseSpace) -> (f64, f64, f64, f64) {
    let e = pot.potential(&w.x) + w.kinetic_energy();
    let lv = w.angular_momentum();
    let l = (lv[0] * lv[0] + lv[1] * lv[1] + lv[2] * lv[2]).sqrt();
    let root = (l * l + 4.0 * gm * b).sqrt();
    let big = gm / (-2.0 * e).sqrt();
    let or = (-2.0 * e).powf(1.5) / gm;
    (big - 0.5 * (l + root), or, 0.5 * or * (1.0 + l / root), big)
}

/// Compare the finder with the exact isochrone at `w`: J_r to 1e-10 relative, with an
/// absolute floor of 1e-14 GM/sqrt(-2E) (the closed form, a difference of two terms of that
/// size, loses that much on near-circular orbits); frequencies to 1e-10 relative.
fn check_isochrone_point(finder: &SphericalFinder, gm: f64, b: f64, w: &PhaseSpace) -> f64 {
    let pot = finder.potential().as_ref();
    let (jr, or, oz, big) = isochrone_exact(pot, gm, b, w);
    let got = finder.action_angle(w).unwrap_or_else(|e| panic!("{w:?}: {e}"));
    let ej = (got.actions[0] - jr).abs() / (1e-10 * jr.abs() + 1e-14 * big);
    let er = (got.frequencies[0] / or - 1.0).abs() / 1e-10;
    let ez = (got.frequencies[1] / oz - 1.0).abs() / 1e-10;
    assert!(
        ej < 1.0 && er < 1.0 && ez < 1.0,
        "{w:?}: J_r {} vs {jr}, Omega_r {} vs {or}, Omega_z {} vs {oz}",
        got.actions[0],
        got.frequencies[0],
        got.frequencies[1]
    );
    ej.max(er).max(ez)
}

/// A point at radius `r` with radial speed `vr`, tangential speed `vt` (inclined orbit).
fn point(r: f64, vr: f64, vt: f64) -> PhaseSpace {
    // Radial direction (0.6, 0, 0.8) and the unit tangent (-0.48, 0.8, 0.36) normal to it.
    PhaseSpace::new(
        [0.6 * r, 0.0, 0.8 * r],
        [0.6 * vr - 0.48 * vt, 0.8 * vt, 0.8 * vr + 0.36 * vt],
    )
}

/// Circular speed sqrt(r Phi'(r)).
fn vcirc(pot: &dyn Potential, r: f64) -> f64 {
    (r * pot.spherical().unwrap().dphi_dr(r)).sqrt()
}

#[test]
fn isochrone_random_points_match_closed_forms() {
    let (m, b) = (3.334e11, 5.0);
    let gm = G * m;
    let finder = SphericalFinder::new(Arc::new(Isochrone::new(m, b).unwrap())).unwrap();
    let mut rng = Pcg64::seed_from_u64(20240601);
    let mut worst = 0.0f64;
    for _ in 0..2000 {
        let r = b * 10f64.powf(rng.random_range(-2.0..2.0));
        let x = random_direction(&mut rng).map(|c| c * r);
        let vesc = (2.0 * gm / (b + (b * b + r * r).sqrt())).sqrt();
        let v = random_direction(&mut rng).map(|c| c * vesc * rng.random_range(0.0..0.99f64).sqrt());
        worst = worst.max(check_isochrone_point(&finder, gm, b, &PhaseSpace::new(x, v)));
    }
    println!("isochrone, 2000 random points: largest error / tolerance {worst:.2e}");
}

fn random_direction(rng: &mut Pcg64) -> [f64; 3] {
    let z: f64 = rng.random_range(-1.0..1.0);
    let phi: f64 = rng.random_range(0.0..TAU);
    let s = (1.0 - z * z).sqrt();
    [s * phi.cos(), s * phi.sin(), z]
}

#[test]
fn near_circular_and_near_radial_isochrone_orbits_match_closed_forms() {
    let (m, b) = (3.334e11, 5.0);
    let gm = G * m;
    let pot = Arc::new(Isochrone::new(m, b).unwrap());
    let finder = SphericalFinder::new(pot.clone()).unwrap();
    let mut worst = 0.0f64;
    // From deep in the core (r = b / 1000, where Phi is constant to 1e-7) to far out.
    for r in [0.005, 0.05, 0.5, 5.0, 50.0, 500.0] {
        let vc = vcirc(pot.as_ref(), r);
        // Near-circular: tangential speed off by eps, small radial speeds, exactly circular.
        for eps in [0.0, 1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3] {
            for vr in [0.0, 1e-9 * vc, -1e-6 * vc, 1e-3 * vc] {
                let w = point(r, vr, vc * (1.0 + eps));
                worst = worst.max(check_isochrone_point(&finder, gm, b, &w));
            }
        }
        // Near-radial: L down to 0, moving out, in, or at rest.
        for frac in [1e-2, 1e-4, 1e-6, 1e-9, 1e-12, 1e-15, 1e-18, 0.0] {
            for vr in [0.0, 0.5 * vc, -0.01 * vc] {
                worst = worst.max(check_isochrone_point(&finder, gm, b, &point(r, vr, frac * vc)));
            }
        }
    }
    println!("near-circular and near-radial isochrone orbits: largest error / tolerance {worst:.2e}");
}

#[test]
fn circular_orbits_give_epicyclic_frequencies() {
    let pots: Vec<Arc<dyn Potential>> = vec![
        Arc::new(Dehnen::new(1e11, 3.0, 1.5).unwrap()),
        Arc::new(Nfw::new(8e11, 16.0).unwrap()),
        Arc::new(Plummer::new(1e11, 2.0).unwrap()),
    ];
    for pot in pots {
        let finder = SphericalFinder::new(pot.clone()).unwrap();
        let prof = pot.spherical().unwrap();
        for r in [0.01, 0.3, 3.0, 30.0, 300.0] {
            let vc = vcirc(pot.as_ref(), r);
            let got = finder.action_angle(&point(r, 0.0, vc)).unwrap();
            let kappa = (prof.d2phi_dr2(r) + 3.0 * prof.dphi_dr(r) / r).sqrt();
            let omega = vc / r;
            let l = r * vc;
            assert!(
                got.actions[0].abs() < 1e-12 * l,
                "{} r {r}: J_r {}",
                pot.spec(),
                got.actions[0]
            );
            assert!(
                (got.frequencies[0] / kappa - 1.0).abs() < 1e-12,
                "{} r {r}: {got:?}",
                pot.spec()
            );
            assert!(
                (got.frequencies[1] / omega - 1.0).abs() < 1e-12,
                "{} r {r}: {got:?}",
                pot.spec()
            );
        }
    }
}

#[test]
fn turning_points_have_radial_angles_zero_and_pi() {
    let pot = Arc::new(Hernquist::new(1e12, 20.0).unwrap());
    let finder = SphericalFinder::new(pot.clone()).unwrap();
    let vc = vcirc(pot.as_ref(), 8.0);
    let peri = finder.action_angle(&point(8.0, 0.0, 1.3 * vc)).unwrap();
    let apo = finder.action_angle(&point(8.0, 0.0, 0.7 * vc)).unwrap();
    assert!(angle_diff(peri.angles[0], 0.0) < 1e-12, "{peri:?}");
    assert!(angle_diff(apo.angles[0], PI) < 1e-12, "{apo:?}");
}

/// Integrate `start` in `pot` with Yoshida's 4th-order scheme over `periods` radial periods
/// and check that the actions stay constant to `jtol` (relative to J_r + L for each action)
/// and that every angle advances as Omega t to `ttol` rad.
fn check_along_orbit(pot: Arc<dyn Potential>, start: PhaseSpace, periods: f64, jtol: f64, ttol: f64) {
    let finder = SphericalFinder::new(pot.clone()).unwrap();
    let first = finder.action_angle(&start).unwrap();
    let t_r = TAU / first.frequencies[0];
    let times: Vec<f64> = (0..=40).map(|k| periods * t_r * k as f64 / 40.0).collect();
    let opts = IntegrationOptions {
        scheme: Scheme::Yoshida4,
        step: StepSize::Fixed(t_r / 40000.0),
        max_steps: 1 << 30,
    };
    let orbit = integrate(pot.as_ref(), &start, &times, &opts).unwrap();
    let scale = first.actions[0].abs() + first.actions[1].abs() + first.actions[2].abs();
    let (mut dj, mut dth) = (0.0f64, 0.0f64);
    for (w, &t) in orbit.points.iter().zip(&times) {
        let now = finder.action_angle(w).unwrap();
        for c in 0..3 {
            dj = dj.max((now.actions[c] - first.actions[c]).abs() / scale);
            let predicted = first.angles[c] + first.frequencies[c] * t;
            dth = dth.max(angle_diff(now.angles[c], predicted));
        }
    }
    println!(
        "{} J = {:?}: action drift {dj:.1e}, angle drift {dth:.1e} rad (energy error {:.1e})",
        pot.spec(),
        first.actions,
        orbit.energy_error
    );
    assert!(
        dj < jtol,
        "{}: actions drift by {dj:e} (need < {jtol:e})",
        pot.spec()
    );
    assert!(
        dth < ttol,
        "{}: angles drift by {dth:e} rad (need < {ttol:e})",
        pot.spec()
    );
}

#[test]
fn actions_are_conserved_and_angles_advance_along_orbits() {
    let dehnen: Arc<dyn Potential> = Arc::new(Dehnen::new(1e11, 3.0, 1.5).unwrap());
    let nfw: Arc<dyn Potential> = Arc::new(Nfw::new(8e11, 16.0).unwrap());
    let log: Arc<dyn Potential> = Arc::new(Logarithmic::new(220.0, 1.0, 1.0).unwrap());
    let vc = |p: &Arc<dyn Potential>, r: f64| vcirc(p.as_ref(), r);
    // Eccentric, near-circular and near-radial orbits; a cusp, NFW and Phi(inf) = +inf.
    let cases = [
        (
            dehnen.clone(),
            point(4.0, 0.3 * vc(&dehnen, 4.0), 0.5 * vc(&dehnen, 4.0)),
        ),
        (
            dehnen.clone(),
            point(4.0, 1e-4 * vc(&dehnen, 4.0), vc(&dehnen, 4.0)),
        ),
        (
            dehnen.clone(),
            point(4.0, -0.2 * vc(&dehnen, 4.0), 0.02 * vc(&dehnen, 4.0)),
        ),
        (
            nfw.clone(),
            point(20.0, 0.5 * vc(&nfw, 20.0), 0.7 * vc(&nfw, 20.0)),
        ),
        (log.clone(), point(8.0, 0.4 * vc(&log, 8.0), 0.6 * vc(&log, 8.0))),
    ];
    for (pot, start) in cases {
        check_along_orbit(pot, start, 3.0, 1e-9, 1e-8);
    }
}

#[test]
fn failures_are_errors_and_batches_flag_them() {
    let pot: Arc<dyn Potential> = Arc::new(Plummer::new(1e11, 2.0).unwrap());
    let finder = SphericalFinder::new(pot.clone()).unwrap();
    let vesc = (2.0 * G * 1e11 / (4.0f64 + 4.0).sqrt()).sqrt();
    let unbound = point(2.0, 0.0, 1.01 * vesc);
    let nan = PhaseSpace::new([f64::NAN, 0.0, 1.0], [0.0, 100.0, 0.0]);
    let centre = PhaseSpace::new([0.0; 3], [10.0, 0.0, 0.0]);
    let good = point(2.0, 30.0, 100.0);
    assert!(matches!(
        finder.action_angle(&unbound),
        Err(ActionError::Unbound { .. })
    ));
    assert!(matches!(finder.action_angle(&nan), Err(ActionError::NonFinite)));
    assert!(matches!(
        finder.action_angle(&centre),
        Err(ActionError::Unsupported(_))
    ));
    let batch = find_batch(&finder, &[good, unbound, nan, centre], &|| {});
    assert_eq!(
        batch.flags,
        vec![Flag::Ok, Flag::Unbound, Flag::NonFinite, Flag::Unsupported]
    );
    assert_eq!(batch.results[0], finder.action_angle(&good).unwrap());
    for r in &batch.results[1..] {
        assert!(r
            .actions
            .iter()
            .chain(&r.angles)
            .chain(&r.frequencies)
            .all(|v| v.is_nan()));
    }
    let disk: Arc<dyn Potential> = Arc::new(MiyamotoNagai::new(6.8e10, 3.0, 0.28).unwrap());
    assert!(matches!(
        SphericalFinder::new(disk),
        Err(ActionError::Unsupported(_))
    ));
    assert_eq!(finder.name(), "spherical");
}
