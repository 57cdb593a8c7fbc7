/** Container names as Docker allows them, and generated names that look like Docker's. */
import { randomInt } from 'node:crypto';
import { InvalidArgumentError } from '../lib/errors.js';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function normalizeName(name: string): string {
  if (!VALID.test(name)) throw new InvalidArgumentError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.startsWith('/') ? name.slice(1) : name;
}

const ADJECTIVES = ['admiring', 'bold', 'brave', 'busy', 'calm', 'clever', 'dazzling', 'eager', 'elegant', 'epic', 'festive', 'focused', 'gallant', 'gifted', 'happy', 'hopeful', 'jolly', 'keen', 'kind', 'lucid', 'modest', 'nifty', 'optimistic', 'pensive', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'tender', 'trusting', 'upbeat', 'vibrant', 'wizardly', 'youthful', 'zealous'];
const SURNAMES = ['agnesi', 'babbage', 'bardeen', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'faraday', 'feynman', 'galileo', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamport', 'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'sammet', 'shannon', 'thompson', 'torvalds', 'turing', 'wilson', 'wozniak'];

/** "admiring_turing"; with `retry` > 0 a digit is added, as Docker does after a collision. */
export function generateName(retry = 0): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
  return retry > 0 ? `${name}${randomInt(10)}` : name;
}
