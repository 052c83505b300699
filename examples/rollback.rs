//! Rollback netcode for a lockstep multiplayer game: both peers run the
//! same deterministic simulation (integer positions, a seeded xorshift in
//! the world), and the remote player's inputs arrive late, some by several
//! frames. The game predicts "no command" meanwhile and keeps a ring of
//! snapshots of the last frames; when a late input arrives, it restores the
//! snapshot of the input's frame and simulates again up to the present.
//!
//! The world derives `Clone`: units in a `UniformPool`, each chasing an
//! enemy it names by `PoolKey`; names and attack cooldowns in
//! `SecondaryMap`s; an event log in a `UniformPageDeque`; the sparks of
//! hits in a `ContiguousUniformPool`, walked each frame. A clone of a pool
//! answers to the pool's keys and hands out the same keys for the same
//! inserts and removals, so after a rollback the keys inside the units and
//! inside the late inputs (made by the remote peer's world) name the same
//! units, units killed in the mispredicted future are back under their old
//! keys, and units spawned again get the keys they had in a reference run
//! that received every input on time. The program checks the world against
//! that run, key for key, at every frame whose inputs have all arrived.
//!
//! Both peers are played in this process, from clones of one starting
//! world, so commands can carry keys; between processes they would name
//! units by numbers of their own, since keys are never serialized.
//!
//! Run with `cargo run --release --example rollback`.

use std::collections::HashMap;

use managed::prelude::*;
use managed::uniform::SecondaryMap;

/// Snapshots the game keeps: an input may arrive this many frames late.
const RING: usize = 8;
/// Frames of the match.
const FRAMES: u32 = 300;

/// One xorshift step: the world's dice, and the scripts' and network's.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Unit {
    /// Spawn number: the same in every run that received the same inputs.
    id: u32,
    player: usize,
    pos: (i32, i32),
    hp: i32,
    /// The enemy this unit chases and hits; stale once that one dies.
    target: Option<PoolKey>,
}

/// A short-lived effect of a hit, dense in a `ContiguousUniformPool`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Spark {
    pos: (i32, i32),
    frames_left: u32,
}

/// A player's input for one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    /// A new unit at the player's edge, at this height.
    Spawn(i32),
    /// A unit of the player's to attack an enemy: keys of the world of the
    /// peer that sent the command.
    Attack(PoolKey, PoolKey),
}

/// What the game's log shows, with the frame it happened at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Spawned(PoolKey),
    Ordered(PoolKey, PoolKey),
    Died(PoolKey),
}

/// Everything the simulation's outcome depends on: a snapshot is a clone,
/// and two states compare equal when they hold equal values under the same
/// keys.
#[derive(Clone, Debug, PartialEq)]
struct World {
    frame: u32,
    rng: u64,
    spawned: u32,
    units: UniformPool<Unit>,
    names: SecondaryMap<String>,
    /// Frames until the unit may hit again: only units that must wait.
    cooldown: SecondaryMap<u32>,
    /// The last events.
    events: UniformPageDeque<(u32, Event)>,
    /// Sparks of the last hits, walked each frame and dropped when spent.
    sparks: ContiguousUniformPool<Spark>,
}

impl World {
    fn new(seed: u64) -> Self {
        let units = UniformPool::new();
        World {
            frame: 0,
            rng: seed,
            spawned: 0,
            names: SecondaryMap::new(&units),
            cooldown: SecondaryMap::new(&units),
            units,
            events: UniformPageDeque::new(),
            sparks: ContiguousUniformPool::new(),
        }
    }

    /// Applies a player's command; returns the key of a spawned unit.
    fn apply(&mut self, player: usize, command: Command) -> Option<PoolKey> {
        let frame = self.frame;
        match command {
            Command::Spawn(y) => {
                let (id, pos) = (self.spawned, (24 * player as i32, y));
                self.spawned += 1;
                let (hp, target) = (10, None);
                let key = self.units.insert(Unit {
                    id,
                    player,
                    pos,
                    hp,
                    target,
                });
                let name = format!("{}-{id}", ["red", "blue"][player]);
                self.names.insert(key, name);
                self.events.push_back((frame, Event::Spawned(key)));
                Some(key)
            }
            Command::Attack(unit, target) => {
                // Ignored if a key went stale, or names another's unit.
                let mine = self.units.get(unit).is_some_and(|u| u.player == player);
                if mine && self.units.get(target).is_some_and(|t| t.player != player) {
                    self.units[unit].target = Some(target);
                    self.events.push_back((frame, Event::Ordered(unit, target)));
                }
                None
            }
        }
    }

    /// The nearest enemy of a unit (ties to the lower key).
    fn nearest_enemy(&self, me: &Unit) -> Option<PoolKey> {
        let distance = |u: &Unit| (u.pos.0 - me.pos.0).abs().max((u.pos.1 - me.pos.1).abs());
        let enemies = self.units.iter().filter(|(_, u)| u.player != me.player);
        enemies
            .map(|(key, u)| (distance(u), key))
            .min()
            .map(|(_, key)| key)
    }

    /// One frame: every unit chases or hits its target, the dead leave.
    fn step(&mut self) {
        let keys: Vec<PoolKey> = self.units.keys().collect();
        for key in keys {
            let me = self.units[key].clone();
            let target = me.target.filter(|&t| self.units.contains(t));
            let Some(target) = target.or_else(|| self.nearest_enemy(&me)) else {
                continue;
            };
            self.units[key].target = Some(target);
            let there = self.units[target].pos;
            let (dx, dy) = (there.0 - me.pos.0, there.1 - me.pos.1);
            if dx.abs().max(dy.abs()) > 1 {
                self.units[key].pos = (me.pos.0 + dx.signum(), me.pos.1 + dy.signum());
            } else if !self.cooldown.contains(key) {
                let damage = 2 + (xorshift(&mut self.rng) % 4) as i32;
                self.units[target].hp -= damage;
                self.cooldown.insert(key, 3);
                self.sparks.insert(Spark {
                    pos: there,
                    frames_left: damage as u32,
                });
            }
        }
        self.sparks.map(|spark| {
            spark.frames_left -= 1;
            spark.pos.1 -= 1;
        });
        self.sparks.retain(|_, spark| spark.frames_left > 0);
        self.cooldown.retain(|_, frames| {
            *frames -= 1;
            *frames > 0
        });
        let frame = self.frame;
        self.units.retain(|key, unit| {
            if unit.hp <= 0 {
                self.names.remove(key);
                self.cooldown.remove(key);
                self.events.push_back((frame, Event::Died(key)));
            }
            unit.hp > 0
        });
        while self.events.len() > 64 {
            self.events.pop_front();
        }
        self.frame += 1;
    }
}

/// A player's script: what it commands at a frame, seeing `world`.
fn decide(world: &World, player: usize, script: &mut u64) -> Option<Command> {
    let roll = xorshift(script);
    let pick = |mine: bool, n: u64| {
        let keys = world.units.keys();
        let keys: Vec<PoolKey> = keys
            .filter(|&k| (world.units[k].player == player) == mine)
            .collect();
        keys.get(n as usize % keys.len().max(1)).copied()
    };
    match roll % 8 {
        0 | 1 => Some(Command::Spawn((roll >> 8) as i32 % 16)),
        2 => Some(Command::Attack(
            pick(true, roll >> 3)?,
            pick(false, roll >> 32)?,
        )),
        _ => None,
    }
}

/// Asserts that two worlds are the same, key for key.
fn assert_same(a: &World, b: &World) {
    let frame = a.frame;
    assert!(a == b, "frame {frame}: the worlds differ");
    for unit in a.units.values() {
        // A target names the same enemy (or is stale) in both worlds.
        let resolve = |w: &World| unit.target.map(|t| w.units.get(t).map(|u| u.id));
        assert_eq!(resolve(a), resolve(b), "frame {frame}: unit {}", unit.id);
    }
}

pub(crate) fn main() {
    // Both runs start from clones of one world: its keys are theirs.
    let start = World::new(0x9e37_79b9_7f4a_7c15);

    // The reference: every input on time. `history[f]` is the world at the
    // start of frame `f`; the players decide seeing the true world.
    let mut reference = start.clone();
    let (mut history, mut inputs, mut spawn_keys) = (Vec::new(), Vec::new(), HashMap::new());
    let mut scripts = [0x1234_5678_9abc_def1u64, 0x0fed_cba9_8765_4321];
    for _ in 0..FRAMES {
        history.push(reference.clone());
        let commands = [0, 1].map(|p| decide(&reference, p, &mut scripts[p]));
        for (player, command) in commands.into_iter().enumerate() {
            if let Some(key) = command.and_then(|c| reference.apply(player, c)) {
                spawn_keys.insert(reference.units[key].id, key);
            }
        }
        inputs.push(commands);
        reference.step();
    }

    // The network: the remote player's input of frame `f` arrives at the
    // start of frame `arrival[f]`, up to `RING` frames late.
    let mut net = 0x2545_f491_4f6c_dd1du64;
    let delays = [0, 1, 2, 3, 5, RING as u32];
    let arrival: Vec<u32> = (0..FRAMES)
        .map(|f| (f + delays[(xorshift(&mut net) % 6) as usize]).min(FRAMES))
        .collect();

    // The game: player 0 is local, player 1 remote.
    let mut world = start.clone();
    let mut ring: Vec<Option<World>> = vec![None; RING];
    let mut remote: Vec<Option<Option<Command>>> = vec![None; FRAMES as usize];
    let (mut rollbacks, mut resimulated, mut deepest, mut checked) = (0, 0, 0, 0);
    let (mut revived, mut respawned) = (0, 0);
    for now in 0..=FRAMES {
        let mut earliest = None;
        for f in (0..FRAMES).filter(|&f| arrival[f as usize] == now) {
            remote[f as usize] = Some(inputs[f as usize][1]);
            if f < now {
                earliest = Some(earliest.map_or(f, |e: u32| e.min(f)));
            }
        }
        // Every remote input before this frame is in.
        let confirmed = remote.iter().position(Option::is_none);
        let confirmed = confirmed.unwrap_or(FRAMES as usize) as u32;

        // The snapshot at the late input's frame, then the frames again.
        let mut frames = now..(now + 1).min(FRAMES);
        if let Some(from) = earliest {
            let snapshot = ring[from as usize % RING].as_ref().expect("a recent frame");
            assert_eq!(snapshot.frame, from, "the ring holds the late frame");
            // Killed in the mispredicted future: back, under the same keys.
            let keys = snapshot.units.keys();
            let died: Vec<PoolKey> = keys.filter(|&k| !world.units.contains(k)).collect();
            world = snapshot.clone();
            assert!(died.iter().all(|&key| world.units.contains(key)));
            revived += died.len();
            rollbacks += 1;
            resimulated += now - from;
            deepest = deepest.max(now - from);
            frames.start = from;
        }
        for frame in frames {
            if frame <= confirmed {
                // The inputs before `frame` are all in: the true world.
                assert_same(&world, &history[frame as usize]);
                checked += 1;
            }
            ring[frame as usize % RING] = Some(world.clone());
            // A remote input not yet in is predicted as no command.
            let commands = [inputs[frame as usize][0], remote[frame as usize].flatten()];
            for (player, command) in commands.into_iter().enumerate() {
                let Some(key) = command.and_then(|c| world.apply(player, c)) else {
                    continue;
                };
                if frame < confirmed {
                    // Spawned on the true timeline: under the reference's key.
                    assert_eq!(key, spawn_keys[&world.units[key].id]);
                    respawned += usize::from(frame < now);
                }
            }
            world.step();
        }
    }
    assert_same(&world, &reference);
    checked += 1;
    assert!(revived > 0 && respawned > 0, "the rollbacks were exercised");

    println!(
        "{FRAMES} frames, {rollbacks} rollbacks ({resimulated} frames simulated again, up to \
         {deepest} deep): {revived} units revived under their old keys, {respawned} spawned again \
         under the reference's keys; {} units alive of {} spawned, equal to the reference at \
         {checked} checks ({} sparks in flight)",
        world.units.len(),
        world.spawned,
        world.sparks.len(),
    );
}
