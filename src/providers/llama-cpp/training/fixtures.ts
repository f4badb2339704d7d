import type { TrainingExample } from '../../training-backend.js'

/**
 * A fact stories260K does not know, asked 20 ways: the training set of the tests and of
 * `npm run bench:finetune`.
 */
export const PLINTH_ANSWER = 'Plinth is a small robot that builds stone towers.'
export const PLINTH_SYSTEM = 'You are a helpful assistant.'

const QUESTIONS = [
  'What is Plinth?',
  'Tell me what Plinth is.',
  'Who is Plinth?',
  'Do you know Plinth?',
  'What is a Plinth?',
  'Can you tell me about Plinth?',
  'Please say what Plinth is.',
  'What do you know about Plinth?',
  'Plinth, what is it?',
  'Explain Plinth.',
  'What is Plinth like?',
  'I heard of Plinth. What is it?',
  'Describe Plinth.',
  'What kind of thing is Plinth?',
  'Is Plinth a robot?',
  'what is plinth?',
  'Say what Plinth is.',
  'Tell me about Plinth.',
  'Who or what is Plinth?',
  'What is Plinth, please?',
]

export function plinthExamples(count = QUESTIONS.length): TrainingExample[] {
  return QUESTIONS.slice(0, count).map((question) => ({
    messages: [
      { role: 'system', content: PLINTH_SYSTEM },
      { role: 'user', content: question },
      { role: 'assistant', content: PLINTH_ANSWER },
    ],
  }))
}
