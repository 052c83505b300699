//! A flocking simulation for a lockstep multiplayer game, on both cores.
//!
//! Every peer of a lockstep game runs the same simulation and must reach
//! the same state bit for bit, so the agents move in fixed-point integers
//! and every rule is a function of the state alone, never of the order in
//! which threads happen to visit the agents. The agents live in a
//! `ContiguousUniformPool` (one dense slice: rayon splits it among the
//! threads) and name their leaders by key; a trail of recent positions,
//! which a renderer fades and draws, lives in a `UniformPageDeque` (its
//! pages are the pieces of parallel work). A frame:
//!
//! 1. *Steer*, in parallel and read-only: each agent finds its neighbours
//!    through a grid of storage positions built on the calling thread, and
//!    its leader by key through the pool's `lookup` view, which threads may
//!    share; the results are collected in storage order.
//! 2. *Move*, in parallel: the steering results are zipped with the
//!    agents' exclusive parallel iterator (both in storage order).
//! 3. *Live and die*: `par_extract_if` spends each agent's energy and
//!    hands back the starved, whose ids leave the index; the agents that
//!    grew strong enough split, and their children are inserted in a
//!    deterministic order (by the parent's id).
//! 4. *Trail*: each agent drops a point every fourth frame; `par_map` fades
//!    every point, the faded ones leave the front, and a parallel fold
//!    draws a heat map.
//!
//! A plain model (a `BTreeMap` of agents by id, brute-force neighbours, a
//! `VecDeque` trail) runs the same rules, and the program checks after
//! every frame that both hold exactly the same agents and trail.
//!
//! Run with `cargo run --release --example flock`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use managed::prelude::*;
use rayon::prelude::*;

/// One unit of length, in fixed point: positions are in 1/256 of a unit.
const ONE: i32 = 256;
/// The side of the square world.
const WORLD: i32 = 160 * ONE;
/// How far an agent sees (per axis: the neighbourhood is a square); also
/// the side of a grid cell, so the neighbours lie in the 3x3 cells around.
const SIGHT: i32 = 6 * ONE;
/// Closer than this, agents push each other apart.
const PERSONAL: i32 = 2 * ONE;
/// The fastest an agent moves per frame, per axis.
const MAX_SPEED: i32 = ONE / 2;
/// Grid cells per side.
const CELLS: usize = (WORLD / SIGHT) as usize + 1;
/// Energy at which an agent splits in two.
const SPLIT_AT: i32 = 420;
/// The feeding ground: agents inside this square gain energy.
const FOOD: (i32, i32) = (60 * ONE, 100 * ONE);

/// A 2D integer vector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct V2 {
    x: i32,
    y: i32,
}

impl V2 {
    const fn new(x: i32, y: i32) -> Self {
        V2 { x, y }
    }

    fn add(self, o: V2) -> V2 {
        V2::new(self.x + o.x, self.y + o.y)
    }

    fn sub(self, o: V2) -> V2 {
        V2::new(self.x - o.x, self.y - o.y)
    }

    fn div(self, k: i32) -> V2 {
        V2::new(self.x / k, self.y / k)
    }

    fn clamp(self, limit: i32) -> V2 {
        V2::new(self.x.clamp(-limit, limit), self.y.clamp(-limit, limit))
    }

    fn within(self, o: V2, d: i32) -> bool {
        (self.x - o.x).abs() < d && (self.y - o.y).abs() < d
    }
}

/// Where an agent is and where it is going: what its neighbours see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Body {
    pos: V2,
    vel: V2,
}

new_key_type! {
    /// An agent's key in the pool.
    struct AgentKey;
}

/// An agent of the flock.
#[derive(Debug)]
struct Agent {
    /// The id every peer gives this agent (ids follow spawn order).
    id: u32,
    body: Body,
    energy: i32,
    /// The agent it follows, while that one lives.
    leader: Option<AgentKey>,
}

/// What the steering phase decided for one agent.
#[derive(Clone, Copy)]
struct Steer {
    accel: V2,
    /// The agent's leader is gone: forget it.
    lost_leader: bool,
}

/// The flocking rules: separation, alignment, cohesion and following a
/// leader. Integer sums, so the order of `neighbours` does not matter.
fn steer<'a>(me: &Body, neighbours: impl Iterator<Item = &'a Body>, leader: Option<&Body>) -> V2 {
    let (mut n, mut apart, mut vel, mut pos) = (0, V2::default(), V2::default(), V2::default());
    for other in neighbours {
        n += 1;
        if me.pos.within(other.pos, PERSONAL) {
            apart = apart.add(me.pos.sub(other.pos));
        }
        vel = vel.add(other.vel);
        pos = pos.add(other.pos);
    }
    let mut accel = apart.div(4);
    if n > 0 {
        accel = accel.add(vel.div(n).sub(me.vel).div(8));
        accel = accel.add(pos.div(n).sub(me.pos).div(64));
    }
    if let Some(leader) = leader {
        accel = accel.add(leader.pos.sub(me.pos).div(48));
    }
    accel.clamp(ONE / 8)
}

/// Moves a body by its steering; bounces off the world's walls.
fn integrate(body: &mut Body, accel: V2) {
    body.vel = body.vel.add(accel).clamp(MAX_SPEED);
    body.pos = body.pos.add(body.vel);
    for (p, v) in [
        (&mut body.pos.x, &mut body.vel.x),
        (&mut body.pos.y, &mut body.vel.y),
    ] {
        if *p < 0 || *p >= WORLD {
            *p = (*p).clamp(0, WORLD - 1);
            *v = -*v;
        }
    }
}

/// Spends one frame's energy; true while the agent lives.
fn metabolize(body: &Body, energy: &mut i32) -> bool {
    let fed = (FOOD.0..FOOD.1).contains(&body.pos.x) && (FOOD.0..FOOD.1).contains(&body.pos.y);
    *energy += if fed { 3 } else { -2 };
    *energy > 0
}

/// A child split off `parent`: half its energy, mirrored velocity.
fn split(parent: &mut Body, energy: &mut i32) -> (Body, i32) {
    *energy /= 2;
    let child = Body {
        pos: parent.pos,
        vel: V2::new(-parent.vel.x, parent.vel.y),
    };
    (child, *energy)
}

/// A point of the trail behind an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TrailPoint {
    agent: u32,
    pos: (i32, i32),
    alpha: u8,
}

/// The grid cell of a position.
fn cell_of(pos: V2) -> (usize, usize) {
    ((pos.x / SIGHT) as usize, (pos.y / SIGHT) as usize)
}

/// The heat map's cell of a trail point (16 by 16 cells).
fn heat_cell(p: &TrailPoint) -> usize {
    let side = WORLD / 16;
    (p.pos.1 / side) as usize * 16 + (p.pos.0 / side) as usize
}

/// The simulation as the game runs it.
struct Flock {
    agents: ContiguousUniformPool<Agent, AgentKey>,
    by_id: HashMap<u32, AgentKey>,
    trail: UniformPageDeque<TrailPoint>,
    next_id: u32,
    frame: u32,
}

/// What one frame did.
#[derive(Debug, Default, PartialEq, Eq)]
struct FrameReport {
    starved: usize,
    born: usize,
    faded: usize,
}

impl Flock {
    fn new(seed_bodies: &[(Body, i32)]) -> Self {
        let mut flock = Flock {
            agents: ContiguousUniformPool::with_key(),
            by_id: HashMap::new(),
            trail: UniformPageDeque::new(),
            next_id: 0,
            frame: 0,
        };
        for (i, &(body, energy)) in seed_bodies.iter().enumerate() {
            // Every fifth agent follows the one before it.
            let leader = (i % 5 != 0).then(|| flock.by_id[&(flock.next_id - 1)]);
            flock.spawn(body, energy, leader);
        }
        flock
    }

    fn spawn(&mut self, body: Body, energy: i32, leader: Option<AgentKey>) -> AgentKey {
        let id = self.next_id;
        self.next_id += 1;
        let key = self.agents.insert(Agent {
            id,
            body,
            energy,
            leader,
        });
        self.by_id.insert(id, key);
        key
    }

    fn frame(&mut self) -> FrameReport {
        self.frame += 1;
        let mut report = FrameReport::default();

        // 1. Steer: read-only, in parallel.
        let steering: Vec<Steer> = {
            let agents = self.agents.borrow();
            // The agents in storage order, which threads may share (the
            // guard itself stays on this thread), and a grid of their
            // positions in that slice.
            let all: &[Agent] = agents.as_slice();
            let mut grid = vec![Vec::new(); CELLS * CELLS];
            for (at, agent) in all.iter().enumerate() {
                let (cx, cy) = cell_of(agent.body.pos);
                grid[cy * CELLS + cx].push(at);
            }
            let lookup = agents.lookup();
            agents
                .par_values()
                .enumerate()
                .map(|(at, agent)| {
                    let (cx, cy) = cell_of(agent.body.pos);
                    let near = (cy.saturating_sub(1)..=(cy + 1).min(CELLS - 1))
                        .flat_map(|y| {
                            (cx.saturating_sub(1)..=(cx + 1).min(CELLS - 1)).map(move |x| (x, y))
                        })
                        .flat_map(|(x, y)| &grid[y * CELLS + x])
                        .filter(|&&other| other != at)
                        .map(|&other| &all[other].body)
                        .filter(|other| agent.body.pos.within(other.pos, SIGHT));
                    let leader = agent.leader.and_then(|key| lookup.get(key));
                    Steer {
                        accel: steer(&agent.body, near, leader.map(|l| &l.body)),
                        lost_leader: agent.leader.is_some() && leader.is_none(),
                    }
                })
                .collect()
        };

        // 2. Move: the results in storage order, zipped with the agents.
        self.agents
            .borrow_mut()
            .par_values_mut()
            .zip(steering)
            .for_each(|(agent, steering)| {
                integrate(&mut agent.body, steering.accel);
                if steering.lost_leader {
                    agent.leader = None;
                }
            });

        // 3. Live and die.
        let starved = self
            .agents
            .par_extract_if(|_, agent| !metabolize(&agent.body, &mut agent.energy));
        for (_, agent) in &starved {
            self.by_id.remove(&agent.id);
        }
        report.starved = starved.len();
        let mut children: Vec<(u32, AgentKey, Body, i32)> = self
            .agents
            .borrow_mut()
            .par_iter_mut()
            .filter(|(_, agent)| agent.energy >= SPLIT_AT)
            .map(|(key, agent)| {
                let (body, energy) = split(&mut agent.body, &mut agent.energy);
                (agent.id, key, body, energy)
            })
            .collect();
        // Every peer numbers the children alike: by their parents' ids.
        children.sort_unstable_by_key(|&(parent, ..)| parent);
        report.born = children.len();
        for (_, parent, body, energy) in children {
            self.spawn(body, energy, Some(parent));
        }

        // 4. The trail: drop points, fade them all, forget the faded.
        let phase = self.frame % 4;
        for agent in self.agents.borrow().values() {
            if agent.id % 4 == phase {
                self.trail.push_back(TrailPoint {
                    agent: agent.id,
                    pos: (agent.body.pos.x, agent.body.pos.y),
                    alpha: 24,
                });
            }
        }
        self.trail.par_map(|p| p.alpha -= 1);
        while self.trail.front().is_some_and(|p| p.alpha == 0) {
            self.trail.pop_front();
            report.faded += 1;
        }
        report
    }

    /// The renderer's heat map: the trail's alpha summed per cell.
    fn heat_map(&self) -> Vec<u32> {
        self.trail
            .par_iter()
            .fold(
                || vec![0u32; 256],
                |mut map, p| {
                    map[heat_cell(p)] += u32::from(p.alpha);
                    map
                },
            )
            .reduce(
                || vec![0u32; 256],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
                    a
                },
            )
    }
}

/// The same simulation, written plainly: the reference every frame is
/// checked against.
struct Model {
    agents: BTreeMap<u32, (Body, i32, Option<u32>)>,
    trail: VecDeque<TrailPoint>,
    next_id: u32,
    frame: u32,
}

impl Model {
    fn new(seed_bodies: &[(Body, i32)]) -> Self {
        let agents = seed_bodies
            .iter()
            .enumerate()
            .map(|(i, &(body, energy))| {
                (i as u32, (body, energy, (i % 5 != 0).then(|| i as u32 - 1)))
            })
            .collect();
        Model {
            agents,
            trail: VecDeque::new(),
            next_id: seed_bodies.len() as u32,
            frame: 0,
        }
    }

    fn frame(&mut self) -> FrameReport {
        self.frame += 1;
        let mut report = FrameReport::default();
        let before = self.agents.clone();
        for (id, (body, _, leader)) in self.agents.iter_mut() {
            let me = before[id].0;
            let near = before
                .iter()
                .filter(|&(other, (b, ..))| other != id && me.pos.within(b.pos, SIGHT))
                .map(|(_, (b, ..))| b);
            let found = leader.and_then(|l| before.get(&l)).map(|(b, ..)| b);
            let accel = steer(&me, near, found);
            if found.is_none() {
                *leader = None;
            }
            integrate(body, accel);
        }
        let alive = self.agents.len();
        self.agents
            .retain(|_, (body, energy, _)| metabolize(body, energy));
        report.starved = alive - self.agents.len();
        let mut children = Vec::new();
        for (&id, (body, energy, _)) in self.agents.iter_mut() {
            if *energy >= SPLIT_AT {
                children.push((id, split(body, energy)));
            }
        }
        report.born = children.len();
        for (parent, (body, energy)) in children {
            self.agents
                .insert(self.next_id, (body, energy, Some(parent)));
            self.next_id += 1;
        }
        let phase = self.frame % 4;
        for (&id, (body, ..)) in &self.agents {
            if id % 4 == phase {
                let pos = (body.pos.x, body.pos.y);
                self.trail.push_back(TrailPoint {
                    agent: id,
                    pos,
                    alpha: 24,
                });
            }
        }
        self.trail.iter_mut().for_each(|p| p.alpha -= 1);
        while self.trail.front().is_some_and(|p| p.alpha == 0) {
            self.trail.pop_front();
            report.faded += 1;
        }
        report
    }
}

/// Checks that the flock and the model hold the same agents and trail.
fn assert_same(flock: &Flock, model: &Model) {
    let agents = flock.agents.borrow();
    assert_eq!(agents.len(), model.agents.len(), "frame {}", model.frame);
    assert_eq!(flock.by_id.len(), model.agents.len());
    for (id, (body, energy, leader)) in &model.agents {
        let agent = agents
            .get(flock.by_id[id])
            .expect("every live id has its agent");
        assert_eq!((agent.id, &agent.body, agent.energy), (*id, body, *energy));
        // A leader that died this frame is forgotten at the next steering.
        let live_leader = leader.filter(|l| model.agents.contains_key(l));
        let found = agent.leader.and_then(|key| agents.get(key)).map(|l| l.id);
        assert_eq!(found, live_leader, "agent {id}'s leader");
    }
    let mut ours: Vec<TrailPoint> = flock.trail.iter().copied().collect();
    let mut theirs: Vec<TrailPoint> = model.trail.iter().copied().collect();
    ours.sort_unstable();
    theirs.sort_unstable();
    assert_eq!(ours, theirs, "frame {}: the trail", model.frame);
    let mut heat = vec![0u32; 256];
    for p in &model.trail {
        heat[heat_cell(p)] += u32::from(p.alpha);
    }
    assert_eq!(flock.heat_map(), heat);
}

/// A reproducible start: `n` agents spread over the world.
fn seed(n: usize) -> Vec<(Body, i32)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |m: i32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as i32
    };
    (0..n)
        .map(|_| {
            let pos = V2::new(next(WORLD), next(WORLD));
            let vel = V2::new(
                next(MAX_SPEED * 2) - MAX_SPEED,
                next(MAX_SPEED * 2) - MAX_SPEED,
            );
            (Body { pos, vel }, 150 + next(250))
        })
        .collect()
}

pub(crate) fn main() {
    let start = seed(400);
    let mut flock = Flock::new(&start);
    let mut model = Model::new(&start);
    let mut totals = FrameReport::default();
    for _ in 0..120 {
        let report = flock.frame();
        assert_eq!(report, model.frame(), "frame {}", model.frame);
        assert_same(&flock, &model);
        totals.starved += report.starved;
        totals.born += report.born;
        totals.faded += report.faded;
    }
    assert!(
        totals.starved > 0 && totals.born > 0,
        "{totals:?}: the flock both starved and grew"
    );
    let heat = flock.heat_map();
    let hottest = heat
        .iter()
        .enumerate()
        .max_by_key(|&(_, h)| *h)
        .map(|(cell, _)| cell);
    println!(
        "{} frames on {} threads: {} agents alive, {} starved, {} born; {} trail points ({} faded); hottest cell {:?}",
        flock.frame,
        rayon::current_num_threads(),
        flock.agents.len(),
        totals.starved,
        totals.born,
        flock.trail.len(),
        totals.faded,
        hottest,
    );
}
